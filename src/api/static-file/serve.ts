// Turns a plan (plan.ts) into a Response. Bodies are Bun.file blobs or slices of them, which Bun
// sends with sendfile: no byte of a segment or an MP4 passes through JavaScript.
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { planStaticResponse, type Plan, type PlanOptions } from "./plan";

export interface ServeFileOptions extends Omit<PlanOptions, "boundary"> {
  /** Headers every answer carries (CORS, for instance). */
  extraHeaders?: Record<string, string>;
  /** Told how many body bytes this answer sends (for medianode_bytes_total). */
  onBytes?(n: number): void;
}

/** A multipart/byteranges body, read into memory (small by the plan's cap) so its length is known. */
async function multipartBody(path: string, plan: Extract<Plan, { kind: "multipart" }>): Promise<Uint8Array> {
  const file = Bun.file(path);
  const chunks: Uint8Array[] = [];
  for (const p of plan.parts) chunks.push(Buffer.from(p.head), new Uint8Array(await file.slice(p.start, p.end + 1).arrayBuffer()));
  chunks.push(Buffer.from(plan.tail));
  return Buffer.concat(chunks);
}

/** Answers GET or HEAD for one file on disk (the caller has already checked it may be read). */
export async function serveFile(request: Request, path: string, o: ServeFileOptions, stat: { size: number; mtimeMs: number } = statSync(path)): Promise<Response> {
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
      // HEAD too gets the file as its body: Bun then sends its Content-Length and no bytes (a
      // null body would be announced as 0 bytes).
      return new Response(Bun.file(path), { status: 200, headers });
    case "range":
      count(plan.range.end - plan.range.start + 1);
      return new Response(Bun.file(path).slice(plan.range.start, plan.range.end + 1), { status: 206, headers });
    case "multipart":
      count(Number(plan.headers["content-length"]));
      return new Response(await multipartBody(path, plan), { status: 206, headers });
    default:
      return new Response(null, { status: plan.status, headers });
  }
}
