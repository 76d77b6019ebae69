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

/** The bytes of a multipart/byteranges body, pulled part by part from the file (backpressure kept). */
function multipartBody(path: string, plan: Extract<Plan, { kind: "multipart" }>): ReadableStream<Uint8Array> {
  const file = Bun.file(path);
  const enc = new TextEncoder();
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (const p of plan.parts) {
      yield enc.encode(p.head);
      for await (const chunk of file.slice(p.start, p.end + 1).stream()) yield chunk;
    }
    yield enc.encode(plan.tail);
  }
  const it = chunks();
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const n = await it.next();
      if (n.done) c.close();
      else c.enqueue(n.value);
    },
    async cancel() {
      await it.return(undefined);
    },
  });
}

/** Answers GET or HEAD for one file on disk (the caller has already checked it may be read). */
export function serveFile(request: Request, path: string, o: ServeFileOptions, stat: { size: number; mtimeMs: number } = statSync(path)): Response {
  const plan = planStaticResponse(
    { method: request.method, header: (n) => request.headers.get(n) },
    stat,
    { contentType: o.contentType, cacheControl: o.cacheControl, etag: o.etag, boundary: randomBytes(12).toString("hex") },
  );
  const headers = { ...plan.headers, ...o.extraHeaders };
  const head = request.method === "HEAD";
  const count = (n: number) => {
    if (!head) o.onBytes?.(n);
  };
  switch (plan.kind) {
    case "full":
      count(stat.size);
      // HEAD: Bun sends the headers (Content-Length of the whole file) and no body.
      return new Response(head ? null : Bun.file(path), { status: 200, headers });
    case "range":
      count(plan.range.end - plan.range.start + 1);
      return new Response(Bun.file(path).slice(plan.range.start, plan.range.end + 1), { status: 206, headers });
    case "multipart":
      count(Number(plan.headers["content-length"]));
      return new Response(multipartBody(path, plan), { status: 206, headers });
    default:
      return new Response(null, { status: plan.status, headers });
  }
}
