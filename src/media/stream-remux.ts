// ffmpeg for live audio channels (SPEC §12). An AAC rendition is an .m4a (MP4 cannot be cut
// into a concatenation-decodable stream), so the channel streams its ADTS copy: a remux, no
// transcode, made once per file.
import { rename, rm } from "node:fs/promises";
import { inputArgs, runFfmpeg } from "./ffmpeg";

/** argv: the first audio stream of an MP4/M4A copied into ADTS frames. Pure. */
export function adtsRemuxArgs(input: string, output: string): string[] {
  return ["-loglevel", "error", ...inputArgs(input, "file", "mov,mp4,m4a,3gp,3g2,mj2"), "-map", "0:a:0", "-c:a", "copy", "-f", "adts", output];
}

/** Writes `output` (via a temp file, so a half-written copy is never read). */
export async function remuxToAdts(ffmpeg: string, input: string, output: string): Promise<void> {
  const tmp = `${output}.${process.pid}.part`;
  try {
    await runFfmpeg({ bin: ffmpeg, args: adtsRemuxArgs(input, tmp), timeoutMs: 120_000 });
    await rename(tmp, output);
  } catch (e) {
    // A failed remux leaves nothing half-written behind (the next try starts clean).
    await rm(tmp, { force: true });
    throw e;
  }
}
