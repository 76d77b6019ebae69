// Lists what a run wrote under outDir as OutputFile rows (names relative, '/'-separated).
import { readdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { OutputFile } from "../schema";

const MIME: Record<string, string> = {
  m3u8: "application/vnd.apple.mpegurl",
  ts: "video/mp2t",
  m4s: "video/iso.segment",
  mp4: "video/mp4",
  m4a: "audio/mp4",
  mp3: "audio/mpeg",
  opus: "audio/ogg",
  aac: "audio/aac",
  jpg: "image/jpeg",
  webp: "image/webp",
  png: "image/png",
  avif: "image/avif",
  vtt: "text/vtt",
  json: "application/json",
};

export function mimeFor(name: string): string {
  const ext = name.slice(name.lastIndexOf(".") + 1).toLowerCase();
  return MIME[ext] ?? "application/octet-stream";
}

/** Every file under dir (hidden scratch folders skipped), sorted, with size and mime; `extra` adds per-file facts. */
export async function listOutputs(dir: string, extra: (name: string) => Partial<OutputFile> = () => ({})): Promise<OutputFile[]> {
  const out: OutputFile[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name.startsWith(".")) continue;
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) {
        const name = relative(dir, full).split(sep).join("/");
        out.push({ name, mime: mimeFor(name), bytes: (await stat(full)).size, ...extra(name) });
      }
    }
  };
  await walk(dir);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
