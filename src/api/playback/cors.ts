// CORS for /p/ (SPEC §10): open to every origin for GET and HEAD, since a site's player fetches
// the playlists and segments from the visitor's browser. Nothing under /p/ reads a cookie or an
// Authorization header, so "*" exposes nothing a plain link would not.
import type { Fetch } from "../metrics";

const ALLOW_HEADERS = "range, if-range, if-none-match, if-modified-since, if-match, if-unmodified-since, cache-control";
const EXPOSE_HEADERS = "content-length, content-range, accept-ranges, etag, last-modified";

export function isPlaybackPath(url: string): boolean {
  const path = url.indexOf("/", url.indexOf("//") + 2);
  return path >= 0 && url.startsWith("/p/", path);
}

/** Wraps the app's fetch in front of its own CORS rules, which stay closed for /v1. */
export function withPlaybackCors(next: Fetch): Fetch {
  return async (req) => {
    if (!isPlaybackPath(req.url)) return next(req);
    if (req.method === "OPTIONS") {
      return new Response(null, {
        status: 204,
        headers: { "access-control-allow-origin": "*", "access-control-allow-methods": "GET, HEAD, OPTIONS", "access-control-allow-headers": ALLOW_HEADERS, "access-control-max-age": "86400" },
      });
    }
    const res = await next(req);
    res.headers.set("access-control-allow-origin", "*");
    res.headers.set("access-control-expose-headers", EXPOSE_HEADERS);
    // An error (expired, revoked) must not be kept by a CDN past the moment it stops being true.
    if (res.status >= 400) res.headers.set("cache-control", "no-store");
    return res;
  };
}
