// HDR clips made at test time: a lavfi testsrc2 pattern taken to PQ (HDR10, with mastering
// display and MaxCLL SEI) or HLG with zscale, encoded 10-bit by libx265 with the HDR tags;
// and the SDR reference of the same pattern. Short and small (2 s, 320x180 by default).
export type HdrKind = "pq" | "hlg";

const MASTER = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)";

function run(args: string[]): void {
  const r = Bun.spawnSync(args, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${args.slice(0, 3).join(" ")} failed: ${r.stderr.toString().slice(-800)}`);
}

const pattern = (w: number, h: number, sec: number) => `testsrc2=size=${w}x${h}:rate=30:duration=${sec}`;

/** An HDR clip of the pattern with a sine track: SDR white placed at 203 nits (BT.2408 reference white). */
export function hdrClip(path: string, kind: HdrKind, o: { width?: number; height?: number; durationSec?: number } = {}): string {
  const [w, h, d] = [o.width ?? 320, o.height ?? 180, o.durationSec ?? 2];
  const trc = kind === "pq" ? "smpte2084" : "arib-std-b67";
  const x265 = ["log-level=error", "colorprim=bt2020", `transfer=${trc}`, "colormatrix=bt2020nc", "repeat-headers=1", ...(kind === "pq" ? ["hdr10=1", `master-display=${MASTER}`, "max-cll=1000,400"] : [])];
  run([
    "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", pattern(w, h, d), "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${d}`,
    "-vf", `format=yuv420p,setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv,zscale=t=linear:npl=203,format=gbrpf32le,zscale=p=bt2020:t=${trc}:m=bt2020nc:r=tv:npl=203,format=yuv420p10le`,
    "-c:v", "libx265", "-preset", "ultrafast", "-crf", "12", "-x265-params", x265.join(":"), "-tag:v", "hvc1",
    "-color_primaries", "bt2020", "-color_trc", trc, "-colorspace", "bt2020nc", "-c:a", "aac", "-shortest", path,
  ]);
  return path;
}

/** The first frame of the SDR pattern (BT.709), as a PNG, the reference a tone-mapped frame is compared with. */
export function sdrReferenceFrame(path: string, at: { width: number; height: number; sec: number }): string {
  run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", pattern(at.width, at.height, at.sec + 1), "-vf", `trim=start=${at.sec},format=yuv420p`, "-frames:v", "1", path]);
  return path;
}

/** PSNR (dB, all planes) of image `a` against `b`, by ffmpeg's psnr filter. */
export function psnr(a: string, b: string): number {
  const r = Bun.spawnSync(["ffmpeg", "-hide_banner", "-i", a, "-i", b, "-filter_complex", "[0:v]format=yuv420p[x];[1:v]format=yuv420p[y];[x][y]psnr", "-f", "null", "-"], { stderr: "pipe" });
  const m = /average:([0-9.]+|inf)/.exec(r.stderr.toString());
  if (!m) throw new Error(`psnr failed: ${r.stderr.toString().slice(-500)}`);
  return m[1] === "inf" ? 99 : Number(m[1]);
}

/** ffprobe of the first video stream and, optionally, the first frame's side data. */
export function probeVideo(path: string, frames = false): { stream: Record<string, unknown>; frameSideData: Record<string, unknown>[] } {
  const args = ["ffprobe", "-v", "error", "-protocol_whitelist", "file,crypto,data", "-select_streams", "v:0", "-show_streams", ...(frames ? ["-read_intervals", "%+#1", "-show_frames"] : []), "-of", "json", "-i", path];
  const r = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`ffprobe ${path}: ${r.stderr.toString()}`);
  const j = JSON.parse(r.stdout.toString()) as { streams: Record<string, unknown>[]; frames?: { side_data_list?: Record<string, unknown>[] }[] };
  return { stream: j.streams[0]!, frameSideData: j.frames?.[0]?.side_data_list ?? [] };
}
