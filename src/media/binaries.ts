import { existsSync } from "node:fs";
import { createRequire } from "node:module";

export const FFMPEG_INSTALL_HINT = "install it with: apt-get install -y ffmpeg (or set MEDIANODE_FFMPEG_PATH / MEDIANODE_FFPROBE_PATH)";

export interface Binaries {
  ffmpeg: string | null;
  ffprobe: string | null;
  /** Where ffmpeg came from: the bundled 2018 build lacks ffprobe and crashes on -master_pl_name. */
  ffmpegFrom: "config" | "path" | "bundled" | null;
}

function bundledFfmpeg(): string | null {
  try {
    const req = createRequire(import.meta.url);
    const mod = req("@ffmpeg-installer/ffmpeg") as { path?: string };
    return mod.path && existsSync(mod.path) ? mod.path : null;
  } catch {
    return null;
  }
}

/** Configured path, else PATH, else the bundled @ffmpeg-installer build (SPEC §6). */
export function resolveBinaries(cfg: { ffmpegPath?: string; ffprobePath?: string }): Binaries {
  let ffmpeg: string | null = null;
  let ffmpegFrom: Binaries["ffmpegFrom"] = null;
  if (cfg.ffmpegPath) {
    // A configured path that is not there is reported as missing, not silently replaced.
    ffmpeg = existsSync(cfg.ffmpegPath) ? cfg.ffmpegPath : null;
    ffmpegFrom = ffmpeg ? "config" : null;
  } else if (Bun.which("ffmpeg")) {
    ffmpeg = Bun.which("ffmpeg");
    ffmpegFrom = "path";
  } else {
    ffmpeg = bundledFfmpeg();
    ffmpegFrom = ffmpeg ? "bundled" : null;
  }
  const ffprobe = cfg.ffprobePath ? (existsSync(cfg.ffprobePath) ? cfg.ffprobePath : null) : Bun.which("ffprobe");
  return { ffmpeg, ffprobe, ffmpegFrom };
}

/** `ffmpeg -version`'s first line, e.g. "5.1.6-0+deb12u1"; null when it cannot run. */
export async function ffmpegVersion(bin: string | null): Promise<string | null> {
  if (!bin) return null;
  try {
    const p = Bun.spawn([bin, "-hide_banner", "-version"], { stdout: "pipe", stderr: "ignore" });
    const text = await new Response(p.stdout).text();
    await p.exited;
    return /version (\S+)/.exec(text)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** The stdout of `ffmpeg -hide_banner <flag>`, or "" when it cannot run. */
async function ffmpegList(bin: string, flag: string): Promise<string> {
  try {
    const p = Bun.spawn([bin, "-hide_banner", flag], { stdout: "pipe", stderr: "ignore" });
    const text = await new Response(p.stdout).text();
    await p.exited;
    return text;
  } catch {
    return "";
  }
}

/** Encoder names from `ffmpeg -encoders` (used by doctor and capability adverts). */
export async function ffmpegEncoders(bin: string | null): Promise<string[]> {
  if (!bin) return [];
  return (await ffmpegList(bin, "-encoders"))
    .split("\n")
    .map((l) => /^\s[VAS][F.][S.][X.][B.][D.]\s+(\S+)/.exec(l)?.[1])
    .filter((x): x is string => !!x && x !== "=");
}

/** Hardware acceleration methods from `ffmpeg -hwaccels`. */
export async function ffmpegHwaccels(bin: string | null): Promise<string[]> {
  if (!bin) return [];
  return (await ffmpegList(bin, "-hwaccels"))
    .split("\n")
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean);
}
