// Cache-Control for outputs under /p/ (SPEC §10). A playback URL names one generation of a job's
// outputs, so its segments, images and media files never change: a CDN and the browser may keep
// them for a year. Playlists (and the small text files beside them) stay short-lived, so a cache
// asks again soon and an expired or revoked URL stops starting new playbacks.
const IMMUTABLE_EXT = new Set(["ts", "m4s", "mp4", "m4a", "aac", "mp3", "opus", "ogg", "jpg", "jpeg", "webp", "avif", "png"]);

export const IMMUTABLE = "public, max-age=31536000, immutable";
export const SHORT_LIVED = "public, max-age=60";

export function playbackCacheControl(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot >= 0 && IMMUTABLE_EXT.has(name.slice(dot + 1).toLowerCase()) ? IMMUTABLE : SHORT_LIVED;
}
