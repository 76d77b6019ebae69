// A loopback HTTP proxy that lets ffprobe read a remote source with Range requests while
// every byte still goes through safeFetch (SSRF checks per request, no DNS rebinding between
// our check and ffprobe's own connect). It counts the bytes asked of the origin: each window
// whole, as Bun may have read all of it even where ffprobe stopped early.
//
// ffprobe asks for open ranges (`bytes=N-`) and hangs up once it has what it needs; Bun's fetch
// reads a response body ahead of its consumer, so passing an open range on to the origin would
// pull the rest of the file. Instead the proxy answers the open range itself and fetches the
// origin in bounded windows, one at a time, each only once ffprobe has read the one before,
// growing from 256 KiB to 1 MiB (SPEC §2: only the bytes needed, growing as ffprobe needs).
import { safeFetch, type UrlPolicy } from "./url";

export interface RangeProxy {
  url: string;
  bytesFetched(): number;
  stop(): void;
}

export const FIRST_WINDOW_BYTES = 256 * 1024;
export const MAX_WINDOW_BYTES = 1024 * 1024;

/** `bytes=N-` or `bytes=N-M` → {start, end}; anything else (suffix, multi-range) → null. */
export function parseRange(header: string | null): { start: number; end: number | null } | null {
  const m = /^bytes=(\d+)-(\d*)$/.exec(header?.trim() ?? "");
  if (!m) return null;
  const start = Number(m[1]);
  const end = m[2] ? Number(m[2]) : null;
  return end !== null && end < start ? null : { start, end };
}

/** `bytes a-b/total` → total, or null when the origin did not say. */
export function totalFromContentRange(header: string | null): number | null {
  const m = /^bytes \d+-\d+\/(\d+)$/.exec(header?.trim() ?? "");
  return m ? Number(m[1]) : null;
}

/** The next window after one of `size` bytes: doubled, at most MAX_WINDOW_BYTES. */
export function nextWindow(size: number): number {
  return Math.min(size * 2, MAX_WINDOW_BYTES);
}

/** A 206's length from its Content-Range (Content-Length may be absent). */
function windowBytes(res: Response): number {
  const m = /^bytes (\d+)-(\d+)\//.exec(res.headers.get("content-range") ?? "");
  return m ? Number(m[2]) - Number(m[1]) + 1 : Number(res.headers.get("content-length") ?? 0);
}

const PASSED_HEADERS = ["content-type", "content-length", "content-range", "accept-ranges", "last-modified", "etag"];

export function startRangeProxy(origin: string, policy: UrlPolicy): RangeProxy {
  let fetched = 0;
  const count = (body: ReadableStream<Uint8Array>) =>
    body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          fetched += chunk.byteLength;
          ctl.enqueue(chunk);
        },
      }),
    );
  const passThrough = (res: Response) => {
    const out = new Headers();
    for (const h of PASSED_HEADERS) {
      const v = res.headers.get(h);
      if (v) out.set(h, v);
    }
    return new Response(res.body ? count(res.body) : null, { status: res.status, headers: out });
  };
  const originRange = (start: number, end: number, signal: AbortSignal) => safeFetch(origin, policy, { method: "GET", headers: { range: `bytes=${start}-${end}` }, signal });

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    async fetch(req) {
      const range = parseRange(req.headers.get("range"));
      const ac = new AbortController();
      req.signal.addEventListener("abort", () => ac.abort(), { once: true });
      try {
        if (req.method === "HEAD" || !range) {
          const headers: Record<string, string> = {};
          const raw = req.headers.get("range");
          if (raw) headers.range = raw;
          return passThrough(await safeFetch(origin, policy, { method: req.method === "HEAD" ? "HEAD" : "GET", headers, signal: ac.signal }));
        }
        let window = FIRST_WINDOW_BYTES;
        const firstEnd = range.end === null ? range.start + window - 1 : Math.min(range.end, range.start + window - 1);
        const first = await originRange(range.start, firstEnd, ac.signal);
        const total = totalFromContentRange(first.headers.get("content-range"));
        // An origin without ranges (200), an error, or one that hides the size: pass it on as is.
        if (first.status !== 206 || total === null || !first.body) return passThrough(first);
        const end = Math.min(range.end ?? total - 1, total - 1);
        let next = firstEnd + 1;
        fetched += windowBytes(first);
        let reader = first.body.getReader();
        const body = new ReadableStream<Uint8Array>(
          {
            async pull(ctl) {
              for (;;) {
                const r = await reader.read();
                if (!r.done) return ctl.enqueue(r.value);
                if (next > end) return ctl.close();
                window = nextWindow(window);
                const to = Math.min(end, next + window - 1);
                const res = await originRange(next, to, ac.signal);
                if (res.status !== 206 || !res.body) throw new Error(`origin answered ${res.status} to a range request it served before`);
                fetched += windowBytes(res);
                reader = res.body.getReader();
                next = to + 1;
              }
            },
            cancel() {
              ac.abort();
            },
          },
          { highWaterMark: 0 },
        );
        const headers = new Headers({ "content-range": `bytes ${range.start}-${end}/${total}`, "content-length": String(end - range.start + 1), "accept-ranges": "bytes" });
        const type = first.headers.get("content-type");
        if (type) headers.set("content-type", type);
        return new Response(body, { status: 206, headers });
      } catch (e) {
        return new Response((e as Error).message, { status: 502 });
      }
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/source`,
    bytesFetched: () => fetched,
    stop: () => server.stop(true),
  };
}
