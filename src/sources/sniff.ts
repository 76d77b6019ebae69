import { fileTypeFromFile } from "file-type";
import { open } from "node:fs/promises";

export type SniffedKind = "image" | "video" | "audio" | "container";

export interface Sniffed {
  mime: string;
  ext: string;
  kind: SniffedKind;
}

// Containers that may hold video or audio only: ffprobe decides.
const CONTAINERS = new Set(["video/mp4", "video/quicktime", "video/webm", "video/x-matroska", "application/ogg", "audio/ogg", "video/ogg", "audio/mp4", "video/3gpp", "audio/webm"]);

/** Magic-byte sniff. Null means "not a media file we know" (→ 415). */
export async function sniffFile(path: string): Promise<Sniffed | null> {
  const ft = await fileTypeFromFile(path);
  if (ft) {
    const mime = ft.mime as string;
    if (CONTAINERS.has(mime)) return { mime, ext: ft.ext, kind: "container" };
    if (mime.startsWith("image/")) return { mime, ext: ft.ext, kind: "image" };
    if (mime.startsWith("video/")) return { mime, ext: ft.ext, kind: "video" };
    if (mime.startsWith("audio/")) return { mime, ext: ft.ext, kind: "audio" };
    if (mime === "application/mxf") return { mime, ext: ft.ext, kind: "video" };
    return null;
  }
  // Text formats (SVG) and long ID3 tags, which file-type does not detect.
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, 4096, 0);
    // An ID3v2 tag (often with cover art) can be longer than file-type reads: ffprobe decides.
    if (bytesRead >= 10 && buf.subarray(0, 3).toString("latin1") === "ID3") return { mime: "audio/mpeg", ext: "mp3", kind: "container" };
    const head = buf.subarray(0, bytesRead).toString("utf8");
    if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(head)) return { mime: "image/svg+xml", ext: "svg", kind: "image" };
  } finally {
    await fh.close();
  }
  return null;
}
