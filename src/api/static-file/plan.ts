// How a file is answered, decided from the request's headers and the file's size and mtime
// alone (pure: no I/O, no clock), so every output route serves like a static file server
// (SPEC §10, RFC 9110 §13 conditional requests and §14 ranges). The byte ranges are parsed by
// `range-parser` and If-None-Match / If-Modified-Since judged by `fresh` (the jshttp modules
// behind Express's `send`); what they leave out (If-Match, If-Unmodified-Since, If-Range, the
// unit check, the part cap) is here.
import fresh from "fresh";
import rangeParser from "range-parser";

export interface FileStat {
  size: number;
  mtimeMs: number;
}

/** The request as far as this decision needs it. */
export interface PlanRequest {
  method: string;
  header(name: string): string | null;
}

export interface PlanOptions {
  contentType: string;
  cacheControl: string;
  /** A validator the caller already has (e.g. a content hash); default: size and mtime. */
  etag?: string;
  /** Separates the parts of a multipart/byteranges body; must not occur in the file (random). */
  boundary: string;
}

export interface ByteRange {
  start: number;
  /** Inclusive, as in Content-Range. */
  end: number;
}

export interface MultipartPart extends ByteRange {
  /** The part's delimiter and headers, sent before its bytes. */
  head: string;
}

export type Plan =
  | { kind: "full"; status: 200; headers: Record<string, string> }
  | { kind: "range"; status: 206; headers: Record<string, string>; range: ByteRange }
  | { kind: "multipart"; status: 206; headers: Record<string, string>; parts: MultipartPart[]; tail: string }
  | { kind: "not-modified"; status: 304; headers: Record<string, string> }
  | { kind: "precondition-failed"; status: 412; headers: Record<string, string> }
  | { kind: "unsatisfiable"; status: 416; headers: Record<string, string> };

/**
 * More parts than this and the whole file is sent instead (RFC 9110 §14.2 lets a server ignore
 * Range; many tiny ranges are a known amplification trick, CVE-2011-3192).
 */
export const MAX_RANGE_PARTS = 32;
/** A multipart answer is built in memory (Bun sends a stream body chunked, without its length): past this, the whole file. */
export const MAX_MULTIPART_BYTES = 8 * 1024 * 1024;

/**
 * A strong validator from size and mtime (as nginx makes its ETags): outputs are written once into
 * an attempt folder and moved into place whole, so equal size and mtime mean equal bytes.
 */
export function strongEtag(stat: FileStat): string {
  return `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
}

/** HTTP dates have whole seconds: Last-Modified and the dates compared with it are truncated alike. */
export function httpDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toUTCString();
}

function parseDate(text: string | null): number | null {
  if (!text) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}

/** Entity tags of an If-Match / If-None-Match list (whitespace and commas between them). */
function tagList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** RFC 9110 §8.8.3.2: strong comparison; a weak tag never matches. */
function strongMatch(a: string, b: string): boolean {
  return !a.startsWith("W/") && !b.startsWith("W/") && a === b;
}

export function planStaticResponse(req: PlanRequest, stat: FileStat, o: PlanOptions): Plan {
  const etag = o.etag ?? strongEtag(stat);
  const lastModified = httpDate(stat.mtimeMs);
  const validators = { etag, "last-modified": lastModified, "cache-control": o.cacheControl };
  const base = { ...validators, "content-type": o.contentType, "accept-ranges": "bytes" };
  const full = { kind: "full", status: 200, headers: { ...base, "content-length": String(stat.size) } } as const;
  const mtimeSec = Math.floor(stat.mtimeMs / 1000) * 1000;

  // §13.2.2 step 1-2: If-Match, else If-Unmodified-Since; a failed one is 412.
  const ifMatch = req.header("if-match");
  if (ifMatch !== null) {
    const tags = tagList(ifMatch);
    if (!tags.includes("*") && !tags.some((t) => strongMatch(t, etag))) return { kind: "precondition-failed", status: 412, headers: validators };
  } else {
    const since = parseDate(req.header("if-unmodified-since"));
    if (since !== null && mtimeSec > since) return { kind: "precondition-failed", status: 412, headers: validators };
  }

  // Step 3-4: If-None-Match (weak comparison), else If-Modified-Since; GET and HEAD get a 304.
  const ifNoneMatch = req.header("if-none-match");
  const ifModifiedSince = req.header("if-modified-since");
  const reqHeaders = { "if-none-match": ifNoneMatch ?? undefined, "if-modified-since": ifModifiedSince ?? undefined, "cache-control": req.header("cache-control") ?? undefined };
  if ((ifNoneMatch !== null || ifModifiedSince !== null) && fresh(reqHeaders, validators)) {
    return { kind: "not-modified", status: 304, headers: validators };
  }

  // Step 5: Range, only for GET (§14.2), only in bytes: any other unit is ignored, not refused.
  const range = req.method === "GET" ? req.header("range") : null;
  if (range === null || !/^\s*bytes\s*=/i.test(range)) return full;
  const ifRange = req.header("if-range");
  if (ifRange !== null) {
    const tag = ifRange.trim();
    const ok = tag.startsWith('"') || tag.startsWith("W/") ? strongMatch(tag, etag) : parseDate(tag) === mtimeSec;
    // The client holds another version: the whole of this one, not a piece to splice onto it.
    if (!ok) return full;
  }
  const ranges = rangeParser(stat.size, range.replace(/^\s*bytes\s*=/i, "bytes="), { combine: true });
  // -2: malformed, ignored (§14.2 "MAY ignore"); -1: nothing satisfiable (§15.5.17).
  if (ranges === -2) return full;
  if (ranges === -1) return { kind: "unsatisfiable", status: 416, headers: { ...validators, "accept-ranges": "bytes", "content-range": `bytes */${stat.size}` } };
  if (ranges.length > MAX_RANGE_PARTS) return full;
  if (ranges.length === 1) {
    const r = ranges[0]!;
    return {
      kind: "range",
      status: 206,
      range: { start: r.start, end: r.end },
      headers: { ...base, "content-range": `bytes ${r.start}-${r.end}/${stat.size}`, "content-length": String(r.end - r.start + 1) },
    };
  }
  // §14.6 multipart/byteranges: each part with its own Content-Type and Content-Range.
  const parts = ranges.map((r, i) => ({
    start: r.start,
    end: r.end,
    head: `${i === 0 ? "" : "\r\n"}--${o.boundary}\r\ncontent-type: ${o.contentType}\r\ncontent-range: bytes ${r.start}-${r.end}/${stat.size}\r\n\r\n`,
  }));
  const tail = `\r\n--${o.boundary}--\r\n`;
  const length = parts.reduce((n, p) => n + Buffer.byteLength(p.head) + (p.end - p.start + 1), Buffer.byteLength(tail));
  if (length > MAX_MULTIPART_BYTES) return full;
  return {
    kind: "multipart",
    status: 206,
    parts,
    tail,
    headers: { ...validators, "accept-ranges": "bytes", "content-type": `multipart/byteranges; boundary=${o.boundary}`, "content-length": String(length) },
  };
}
