// The probe's range proxy: open ranges are answered from bounded origin windows fetched only as
// the reader reads, so a reader that hangs up early costs one window, not the rest of the file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FIRST_WINDOW_BYTES, MAX_WINDOW_BYTES, nextWindow, parseRange, startRangeProxy, totalFromContentRange } from "../../src/sources/range-proxy";

describe("pure parts", () => {
  test.each([
    ["bytes=0-", { start: 0, end: null }],
    ["bytes=100-199", { start: 100, end: 199 }],
    ["bytes=-500", null],
    ["bytes=5-1", null],
    ["bytes=0-1,5-9", null],
    [null, null],
  ] as const)("parseRange(%p)", (h, want) => expect(parseRange(h)).toEqual(want));
  test("content-range total", () => {
    expect(totalFromContentRange("bytes 0-9/1000")).toBe(1000);
    expect(totalFromContentRange("bytes 0-9/*")).toBeNull();
  });
  test("windows double up to the cap", () => {
    expect(nextWindow(FIRST_WINDOW_BYTES)).toBe(FIRST_WINDOW_BYTES * 2);
    expect(nextWindow(MAX_WINDOW_BYTES)).toBe(MAX_WINDOW_BYTES);
  });
});

describe("against a real origin", () => {
  const size = 20 * 1024 * 1024 + 123;
  const data = new Uint8Array(size).map((_, i) => (i * 31 + (i >> 10)) & 0xff);
  const asked: string[] = [];
  let ranges = true;
  let origin: ReturnType<typeof Bun.serve>;
  const policy = { allowlist: ["127.0.0.1"], maxBytes: size * 2, timeoutMs: 10_000 };
  beforeAll(() => {
    origin = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        const r = parseRange(req.headers.get("range"));
        asked.push(req.headers.get("range") ?? "(none)");
        if (!r || !ranges) return new Response(data, { headers: { "content-type": "video/mp4" } });
        const end = Math.min(r.end ?? size - 1, size - 1);
        return new Response(data.slice(r.start, end + 1), { status: 206, headers: { "content-type": "video/mp4", "content-range": `bytes ${r.start}-${end}/${size}` } });
      },
    });
  });
  afterAll(() => origin.stop(true));
  const src = () => `http://127.0.0.1:${origin.port}/v.mp4`;

  test("a whole open range arrives intact, in growing windows", async () => {
    asked.length = 0;
    const p = startRangeProxy(src(), policy);
    try {
      const res = await fetch(p.url, { headers: { range: "bytes=1000-" } });
      expect(res.status).toBe(206);
      expect(res.headers.get("content-range")).toBe(`bytes 1000-${size - 1}/${size}`);
      const got = new Uint8Array(await res.arrayBuffer());
      expect(got.length).toBe(size - 1000);
      expect(Buffer.compare(got, data.subarray(1000))).toBe(0);
      expect(asked[0]).toBe(`bytes=1000-${1000 + FIRST_WINDOW_BYTES - 1}`);
      expect(asked.length).toBeGreaterThan(3);
      expect(p.bytesFetched()).toBe(size - 1000);
    } finally {
      p.stop();
    }
  });

  test("a reader that hangs up after 100 KB costs the origin at most the first windows, not the file", async () => {
    asked.length = 0;
    const p = startRangeProxy(src(), policy);
    try {
      const res = await fetch(p.url, { headers: { range: "bytes=0-" } });
      const reader = res.body!.getReader();
      let read = 0;
      while (read < 100_000) read += (await reader.read()).value!.byteLength;
      await reader.cancel();
      // A tail read, as ffprobe does for an index at the end.
      const tail = await fetch(p.url, { headers: { range: `bytes=${size - 50_000}-` } });
      expect((await tail.arrayBuffer()).byteLength).toBe(50_000);
      await Bun.sleep(200);
      expect(p.bytesFetched()).toBeLessThanOrEqual(FIRST_WINDOW_BYTES * 3 + 50_000);
      expect(p.bytesFetched()).toBeLessThan(size / 10);
    } finally {
      p.stop();
    }
  });

  test("an origin without Range support is passed through as it answers", async () => {
    ranges = false;
    const p = startRangeProxy(src(), policy);
    try {
      const res = await fetch(p.url, { headers: { range: "bytes=0-" } });
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBe(size);
    } finally {
      ranges = true;
      p.stop();
    }
  });

  test("a refused origin (private address, not allowlisted) is a 502 from the proxy", async () => {
    const p = startRangeProxy(src(), { ...policy, allowlist: [] });
    try {
      expect((await fetch(p.url, { headers: { range: "bytes=0-" } })).status).toBe(502);
    } finally {
      p.stop();
    }
  });
});
