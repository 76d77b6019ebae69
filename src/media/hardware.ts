// Which hardware this node can really use. `ffmpeg -hwaccels` and `-encoders` list what the
// build was compiled with (Debian's ffmpeg lists cuda, vaapi, qsv, h264_nvenc… on a VPS with no
// GPU); a node that advertised those would take `options.require: ["h264_nvenc"]` jobs and fail
// them. So each listed method is tried once at start (create the device, ~50 ms, in parallel)
// and a hardware encoder is kept only when the device its family needs came up.

/** argv that creates one hardware device of `method` and encodes nothing (pure). */
export function hwDeviceProbeArgs(bin: string, method: string): string[] {
  return [bin, "-v", "error", "-hide_banner", "-nostdin", "-init_hw_device", `${method}=probe`, "-f", "lavfi", "-i", "nullsrc=s=64x64:d=0.04", "-frames:v", "1", "-f", "null", "-"];
}

// Encoder name suffix → the hwaccel device it runs on. Encoders without one of these suffixes
// are software (libx264, aac…) and always usable.
const FAMILIES: readonly [RegExp, string][] = [
  [/_nvenc$/, "cuda"],
  [/_qsv$/, "qsv"],
  [/_vaapi$/, "vaapi"],
  [/_vulkan$/, "vulkan"],
  [/_videotoolbox$/, "videotoolbox"],
  [/_amf$/, "amf"],
  [/_v4l2m2m$/, "v4l2m2m"],
  [/_mediacodec$/, "mediacodec"],
  [/_mf$/, "mf"],
  [/_omx$/, "omx"],
  [/_rkmpp$/, "rkmpp"],
];

/** The hwaccel an encoder needs, or null for a software encoder (pure). */
export function encoderDevice(encoder: string): string | null {
  for (const [re, device] of FAMILIES) if (re.test(encoder)) return device;
  return null;
}

/** Software encoders, plus hardware ones whose device is usable here (pure). */
export function usableEncoders(encoders: readonly string[], usableHwaccels: readonly string[]): string[] {
  const ok = new Set(usableHwaccels);
  return encoders.filter((e) => {
    const device = encoderDevice(e);
    return device === null || ok.has(device);
  });
}

/** The listed hwaccel methods whose device can be created on this machine. */
export async function usableHwaccels(bin: string | null, listed: readonly string[]): Promise<string[]> {
  if (!bin) return [];
  const tried = await Promise.all(
    listed.map(async (method) => {
      try {
        const p = Bun.spawn(hwDeviceProbeArgs(bin, method), { stdin: "ignore", stdout: "ignore", stderr: "ignore", timeout: 10_000, killSignal: "SIGKILL" });
        return (await p.exited) === 0 ? method : null;
      } catch {
        return null;
      }
    }),
  );
  return tried.filter((m): m is string => m !== null);
}
