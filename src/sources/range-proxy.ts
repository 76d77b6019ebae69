// A loopback HTTP proxy that lets ffprobe read a remote source with Range requests while
// every byte still goes through safeFetch (SSRF checks per request, no DNS rebinding between
// our check and ffprobe's own connect). It counts the bytes actually fetched from the origin.
import { safeFetch, type UrlPolicy } from "./url";

export interface RangeProxy {
  url: string;
  bytesFetched(): number;
  stop(): void;
}

export function startRangeProxy(origin: string, policy: UrlPolicy): RangeProxy {
  let fetched = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    async fetch(req) {
      const headers: Record<string, string> = {};
      const range = req.headers.get("range");
      if (range) headers.range = range;
      let res: Response;
      try {
        res = await safeFetch(origin, policy, { method: req.method === "HEAD" ? "HEAD" : "GET", headers, signal: req.signal });
      } catch (e) {
        return new Response((e as Error).message, { status: 502 });
      }
      const out = new Headers();
      for (const h of ["content-type", "content-length", "content-range", "accept-ranges", "last-modified", "etag"]) {
        const v = res.headers.get(h);
        if (v) out.set(h, v);
      }
      if (!res.body) return new Response(null, { status: res.status, headers: out });
      const counted = res.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, ctl) {
            fetched += chunk.byteLength;
            ctl.enqueue(chunk);
          },
        }),
      );
      return new Response(counted, { status: res.status, headers: out });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/source`,
    bytesFetched: () => fetched,
    stop: () => server.stop(true),
  };
}
