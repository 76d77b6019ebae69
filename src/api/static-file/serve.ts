// Turns a plan (plan.ts) into a Response. Bodies of files on disk are Bun.file blobs or slices
// of them, which Bun sends with sendfile: no byte of a segment or an MP4 passes through
// JavaScript. Objects in the media bucket come through the same plan, read by range.
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import type { OutputLocation } from "../../storage/media-files";
import { planStaticResponse, type FileStat, type Plan, type PlanOptions } from "./plan";

export interface ServeFileOptions extends Omit<PlanOptions, "boundary"> {
  /** Headers every answer carries (CORS, for instance). */
  extraHeaders?: Record<string, string>;
  /** Told how many body bytes this answer sends (for medianode_bytes_total). */
  onBytes?(n: number): void;
}

type ReadRange = (start: number, endInclusive: number) => Promise<Uint8Array>;
type Body = Blob | Uint8Array;

/** How the bytes of one stored file are had: whole, one range as a body, or a range read into memory. */
interface Bodies {
  whole(): Body | Promise<Body>;
  range(start: number, endInclusive: number): Body | Promise<Body>;
  read: ReadRange;
}

/** A multipart/byteranges body, read into memory (small by the plan's cap) so its length is known. */
async function multipartBody(read: ReadRange, plan: Extract<Plan, { kind: "multipart" }>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (const p of plan.parts) chunks.push(Buffer.from(p.head), await read(p.start, p.end));
  chunks.push(Buffer.from(plan.tail));
  return Buffer.concat(chunks);
}

async function answer(request: Request, stat: FileStat, o: ServeFileOptions, bodies: Bodies): Promise<Response> {
  const plan = planStaticResponse(
    { method: request.method, header: (n) => request.headers.get(n) },
    stat,
    // The boundary matters only to a multi-range answer: no random bytes for the rest.
    { contentType: o.contentType, cacheControl: o.cacheControl, etag: o.etag, boundary: request.headers.has("range") ? randomBytes(12).toString("hex") : "" },
  );
  const headers = { ...plan.headers, ...o.extraHeaders };
  const head = request.method === "HEAD";
  const count = (n: number) => {
    if (!head) o.onBytes?.(n);
  };
  switch (plan.kind) {
    case "full":
      count(stat.size);
      // HEAD too gets the body: Bun then sends its Content-Length and no bytes (a null body
      // would be announced as 0 bytes).
      return new Response(await bodies.whole(), { status: 200, headers });
    case "range":
      count(plan.range.end - plan.range.start + 1);
      return new Response(await bodies.range(plan.range.start, plan.range.end), { status: 206, headers });
    case "multipart":
      count(Number(plan.headers["content-length"]));
      return new Response(await multipartBody(bodies.read, plan), { status: 206, headers });
    default:
      return new Response(null, { status: plan.status, headers });
  }
}

/** Answers GET or HEAD for one file on disk (the caller has already checked it may be read). */
export async function serveFile(request: Request, path: string, o: ServeFileOptions, stat: FileStat = statSync(path)): Promise<Response> {
  const file = Bun.file(path);
  return await answer(request, stat, o, {
    whole: () => file,
    range: (start, end) => file.slice(start, end + 1),
    read: async (start, end) => new Uint8Array(await file.slice(start, end + 1).arrayBuffer()),
  });
}

/**
 * Answers GET or HEAD for an output wherever it is stored (storage/media-files.ts): a file with
 * sendfile, an object read through the node under the same plan (ETag, Range, 304), or a redirect
 * to a presigned URL (never cached: the URL expires).
 */
export async function serveLocated(request: Request, loc: OutputLocation, o: ServeFileOptions): Promise<Response> {
  if (loc.kind === "file") return await serveFile(request, loc.path, o);
  if (loc.kind === "redirect") return new Response(null, { status: 302, headers: { location: loc.url, "cache-control": "no-store", ...o.extraHeaders } });
  return await answer(request, loc.stat, o, {
    whole: () => (loc.stat.size ? loc.read(0, loc.stat.size - 1) : new Uint8Array()),
    range: (start, end) => loc.read(start, end),
    read: loc.read,
  });
}
