// The static-file decision, table-driven: (request method + headers, file size/mtime) → status
// and headers (RFC 9110 §13 conditional requests, §14 ranges; SPEC §10).
import { describe, expect, test } from "bun:test";
import { httpDate, MAX_MULTIPART_BYTES, MAX_RANGE_PARTS, planStaticResponse, strongEtag, type Plan } from "../../../src/api/static-file/plan";

const stat = { size: 1000, mtimeMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678) };
const ETAG = strongEtag(stat);
const LM = httpDate(stat.mtimeMs);
const BEFORE = new Date(stat.mtimeMs - 60_000).toUTCString();
const AFTER = new Date(stat.mtimeMs + 60_000).toUTCString();

function plan(headers: Record<string, string>, method = "GET", o: { etag?: string } = {}): Plan {
  const h = new Headers(headers);
  return planStaticResponse({ method, header: (n) => h.get(n) }, stat, { contentType: "video/mp2t", cacheControl: "public, max-age=1", boundary: "BOUNDARY", ...o });
}

test("validators: a strong ETag from size and mtime; Last-Modified in whole seconds", () => {
  expect(ETAG).toBe(`"3e8-${Math.floor(stat.mtimeMs).toString(16)}"`);
  expect(ETAG.startsWith("W/")).toBe(false);
  expect(LM).toBe("Fri, 02 Jan 2026 03:04:05 GMT");
  const p = plan({});
  expect(p.status).toBe(200);
  expect(p.headers).toMatchObject({ etag: ETAG, "last-modified": LM, "content-type": "video/mp2t", "accept-ranges": "bytes", "content-length": "1000", "cache-control": "public, max-age=1" });
});

describe("conditional requests", () => {
  test.each([
    ["If-None-Match: the ETag", { "if-none-match": ETAG }, 304],
    ["If-None-Match: one of a list", { "if-none-match": `"nope", ${ETAG}` }, 304],
    ["If-None-Match: the weak form of it (weak comparison)", { "if-none-match": `W/${ETAG}` }, 304],
    ["If-None-Match: *", { "if-none-match": "*" }, 304],
    ["If-None-Match: another tag", { "if-none-match": '"other"' }, 200],
    ["If-None-Match wins over a matching If-Modified-Since", { "if-none-match": '"other"', "if-modified-since": AFTER }, 200],
    ["If-Modified-Since: the Last-Modified itself", { "if-modified-since": LM }, 304],
    ["If-Modified-Since: later", { "if-modified-since": AFTER }, 304],
    ["If-Modified-Since: earlier", { "if-modified-since": BEFORE }, 200],
    ["If-Modified-Since: not a date", { "if-modified-since": "yesterday" }, 200],
    ["If-Match: the ETag", { "if-match": ETAG }, 200],
    ["If-Match: *", { "if-match": "*" }, 200],
    ["If-Match: another tag", { "if-match": '"other"' }, 412],
    ["If-Match: the weak form (strong comparison)", { "if-match": `W/${ETAG}` }, 412],
    ["If-Unmodified-Since: later", { "if-unmodified-since": AFTER }, 200],
    ["If-Unmodified-Since: earlier", { "if-unmodified-since": BEFORE }, 412],
  ] as const)("%s (%o) → %d", (_what, headers, status) => {
    expect(plan(headers).status).toBe(status);
  });

  test("a 304 carries the validators and Cache-Control, no body length", () => {
    const p = plan({ "if-none-match": ETAG });
    expect(p.headers).toEqual({ etag: ETAG, "last-modified": LM, "cache-control": "public, max-age=1" });
  });

  test("HEAD revalidates the same way", () => {
    expect(plan({ "if-none-match": ETAG }, "HEAD").status).toBe(304);
  });

  test("a caller's own validator (a content hash) replaces the size-mtime one", () => {
    expect(plan({ "if-none-match": '"abc"' }, "GET", { etag: '"abc"' }).status).toBe(304);
    expect(plan({ "if-none-match": ETAG }, "GET", { etag: '"abc"' }).status).toBe(200);
  });
});

describe("ranges", () => {
  test.each([
    ["bytes=0-99", 0, 99],
    ["bytes=900-", 900, 999],
    ["bytes=-100", 900, 999],
    ["bytes=990-5000 (end clipped to the size)", 990, 999],
    ["BYTES = 10-19 (unit case-insensitive)", 10, 19],
    ["bytes=0-9,5-19 (overlapping parts merged)", 0, 19],
    ["bytes=0-9,10-19 (adjacent parts merged)", 0, 19],
  ] as const)("%s → 206 %d-%d", (header, start, end) => {
    const p = plan({ range: header.split(" (")[0]! });
    expect(p.kind).toBe("range");
    if (p.kind !== "range") return;
    expect(p.range).toEqual({ start, end });
    expect(p.headers["content-range"]).toBe(`bytes ${start}-${end}/1000`);
    expect(p.headers["content-length"]).toBe(String(end - start + 1));
  });

  test.each([
    ["an unknown unit", "items=0-5", "GET"],
    ["an unknown unit past the end", "items=5000-6000", "GET"],
    ["no '='", "bytes 0-5", "GET"],
    ["garbage numbers", "bytes=a-b", "GET"],
    ["HEAD (range is for GET only)", "bytes=0-5", "HEAD"],
    [`more than ${MAX_RANGE_PARTS} parts`, "bytes=" + Array.from({ length: MAX_RANGE_PARTS + 1 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(","), "GET"],
  ])("%s → 200 with the whole file (ignored, never 416)", (_what, range, method) => {
    const p = plan({ range }, method);
    expect(p.status).toBe(200);
    expect(p.headers["content-length"]).toBe("1000");
  });

  test.each([
    ["bytes=1000-"],
    ["bytes=5000-6000"],
    ["bytes=-0"],
  ])("%s (nothing satisfiable) → 416 with bytes */size", (range) => {
    const p = plan({ range });
    expect(p.status).toBe(416);
    expect(p.headers["content-range"]).toBe("bytes */1000");
  });

  test("two parts → 206 multipart/byteranges, each with its own Content-Range, length exact", () => {
    const p = plan({ range: "bytes=0-9,500-509" });
    expect(p.kind).toBe("multipart");
    if (p.kind !== "multipart") return;
    expect(p.headers["content-type"]).toBe("multipart/byteranges; boundary=BOUNDARY");
    expect(p.parts.map((x) => [x.start, x.end])).toEqual([
      [0, 9],
      [500, 509],
    ]);
    expect(p.parts[0]!.head).toBe("--BOUNDARY\r\ncontent-type: video/mp2t\r\ncontent-range: bytes 0-9/1000\r\n\r\n");
    expect(p.parts[1]!.head).toStartWith("\r\n--BOUNDARY\r\n");
    expect(p.tail).toBe("\r\n--BOUNDARY--\r\n");
    const length = p.parts.reduce((n, x) => n + x.head.length + x.end - x.start + 1, p.tail.length);
    expect(p.headers["content-length"]).toBe(String(length));
  });

  test("a multipart answer larger than the in-memory cap → 200 with the whole file", () => {
    const big = { size: 4 * MAX_MULTIPART_BYTES, mtimeMs: stat.mtimeMs };
    const h = new Headers({ range: `bytes=0-${MAX_MULTIPART_BYTES},-${MAX_MULTIPART_BYTES}` });
    const p = planStaticResponse({ method: "GET", header: (n) => h.get(n) }, big, { contentType: "video/mp4", cacheControl: "x", boundary: "B" });
    expect(p.status).toBe(200);
  });

  test("a multi-range with one satisfiable part keeps that part", () => {
    const p = plan({ range: "bytes=0-9,5000-6000" });
    expect(p.kind).toBe("range");
  });

  test.each([
    ["the ETag", ETAG, 206],
    ["the Last-Modified date", LM, 206],
    ["another ETag", '"other"', 200],
    ["a weak ETag (If-Range needs a strong match)", `W/${ETAG}`, 200],
    ["an earlier date", BEFORE, 200],
    ["a later date (only an exact match counts)", AFTER, 200],
  ] as const)("If-Range with %s (%s) → %d", (_what, ifRange, status) => {
    expect(plan({ range: "bytes=0-9", "if-range": ifRange }).status).toBe(status);
  });

  test("a matching If-None-Match answers 304 even with a Range", () => {
    expect(plan({ range: "bytes=0-9", "if-none-match": ETAG }).status).toBe(304);
  });
});
