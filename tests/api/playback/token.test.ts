// Playback tokens: sign and verify are pure (secret and clock are arguments).
import { describe, expect, test } from "bun:test";
import { signPlaybackToken, verifyPlaybackToken } from "../../../src/api/playback/token";
import { playbackCacheControl, IMMUTABLE, SHORT_LIVED } from "../../../src/api/playback/cache";

const SECRET = "s".repeat(40);
const claims = { jobId: "j_01jabcdefghjkmnpqrstvwxyz0", generation: 1_780_000_000_123, expiresAtSec: 1_780_003_600 };
const token = signPlaybackToken(claims, SECRET);

describe("playback token", () => {
  test("round trip: path-safe, and verifies before its expiry", () => {
    expect(token).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(verifyPlaybackToken(token, SECRET, claims.expiresAtSec - 1)).toEqual({ ok: true, claims });
  });

  test("expired at and after expiresAtSec (410), still naming the job", () => {
    expect(verifyPlaybackToken(token, SECRET, claims.expiresAtSec)).toEqual({ ok: false, reason: "expired", claims });
  });

  const [id, gen, exp, sig] = token.split(".") as [string, string, string, string];
  const flip = (s: string) => (s[0] === "a" ? "b" : "a") + s.slice(1);
  test.each([
    ["another secret", token, "t".repeat(40)],
    ["a later expiry", [id, gen, (claims.expiresAtSec + 86400).toString(36), sig].join("."), SECRET],
    ["another job", [id.slice(0, -1) + (id.endsWith("0") ? "1" : "0"), gen, exp, sig].join("."), SECRET],
    ["another generation", [id, (claims.generation + 1).toString(36), exp, sig].join("."), SECRET],
    ["an altered signature", [id, gen, exp, flip(sig)].join("."), SECRET],
  ])("%s → bad-signature (403), even past the expiry", (_what, t, secret) => {
    expect(verifyPlaybackToken(t, secret, claims.expiresAtSec - 1)).toEqual({ ok: false, reason: "bad-signature" });
    expect(verifyPlaybackToken(t, secret, claims.expiresAtSec + 10)).toEqual({ ok: false, reason: "bad-signature" });
  });

  test.each([[""], ["abc"], [token + ".x"], [token.replace("j_", "x_")], [`${id}.${gen}.${exp}.${sig.slice(1)}`], [`${id}.-1.${exp}.${sig}`], ["../../etc/passwd"]])("malformed %p → malformed (403)", (t) => {
    expect(verifyPlaybackToken(t, SECRET, 0)).toEqual({ ok: false, reason: "malformed" });
  });
});

test.each([
  ["720p/seg_001.ts", IMMUTABLE],
  ["720p/seg_001.m4s", IMMUTABLE],
  ["video.mp4", IMMUTABLE],
  ["poster.jpg", IMMUTABLE],
  ["storyboard.jpg", IMMUTABLE],
  ["thumb.webp", IMMUTABLE],
  ["preview.avif", IMMUTABLE],
  ["audio-96k.opus", IMMUTABLE],
  ["audio-128k.aac", IMMUTABLE],
  ["audio-192k.mp3", IMMUTABLE],
  ["master.m3u8", SHORT_LIVED],
  ["720p/index.m3u8", SHORT_LIVED],
  ["storyboard.vtt", SHORT_LIVED],
  ["waveform.json", SHORT_LIVED],
])("Cache-Control under /p/ for %s", (name, want) => {
  expect(playbackCacheControl(name)).toBe(want);
});
