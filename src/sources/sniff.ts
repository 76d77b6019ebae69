import { fileTypeFromBuffer } from "file-type";

export type SniffedKind = "image" | "video" | "audio" | "container";

export interface Sniffed {
  mime: string;
  ext: string;
  kind: SniffedKind;
}

// Containers that may hold video or audio only: ffprobe decides.
const CONTAINERS = new Set(["video/mp4", "video/quicktime", "video/webm", "video/x-matroska", "application/ogg", "audio/ogg", "video/ogg", "audio/mp4", "video/3gpp", "audio/webm"]);

// file-type looks at the head only; reading it ourselves (validate.ts) avoids its file reader
// (strtok3), which a compiled executable cannot load.
export const HEAD_BYTES = 64 * 1024;

/** Magic-byte sniff of a file's first bytes (HEAD_BYTES or fewer). Null means "not a media file we know" (→ 415). */
export async function sniffHead(head: Uint8Array): Promise<Sniffed | null> {
  const ft = await fileTypeFromBuffer(head);
  if (ft) {
    const mime = ft.mime as string;
    if (CONTAINERS.has(mime)) return { mime, ext: ft.ext, kind: "container" };
    if (mime.startsWith("image/")) return { mime, ext: ft.ext, kind: "image" };
    if (mime.startsWith("video/")) return { mime, ext: ft.ext, kind: "video" };
    if (mime.startsWith("audio/")) return { mime, ext: ft.ext, kind: "audio" };
    if (mime === "application/mxf") return { mime, ext: ft.ext, kind: "video" };
    return null;
  }
  // TIFF: file-type follows IFD offsets that may lie past the head; the byte order mark is enough here.
  const magic = Buffer.from(head.subarray(0, 4)).toString("latin1");
  if (magic === "II*\0" || magic === "MM\0*") return { mime: "image/tiff", ext: "tif", kind: "image" };
  // Text formats (SVG) and long ID3 tags, which file-type does not detect.
  // An ID3v2 tag (often with cover art) can be longer than the head: ffprobe decides.
  if (head.length >= 10 && Buffer.from(head.subarray(0, 3)).toString("latin1") === "ID3") return { mime: "audio/mpeg", ext: "mp3", kind: "container" };
  const text = Buffer.from(head.subarray(0, 4096)).toString("utf8");
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(text)) return { mime: "image/svg+xml", ext: "svg", kind: "image" };
  return null;
}
