// Playback tokens (SPEC §10): `<jobId>.<generation>.<expiry>.<mac>`, path-safe, in the URL path so
// that every relative URI inside a playlist inherits it. The MAC is HMAC-SHA256 over the claims
// with MEDIANODE_PLAYBACK_SECRET. The generation is the finish time of the job's completed run: a
// retry, a new commit or a deletion changes or removes it, which revokes every URL issued before.
// Pure: the secret and the clock are arguments.
import { createHmac, timingSafeEqual } from "node:crypto";

export interface PlaybackClaims {
  jobId: string;
  /** The job's output generation (ms since the epoch of its completion). */
  generation: number;
  /** Unix seconds after which the token is refused (410). */
  expiresAtSec: number;
}

export type PlaybackVerdict =
  | { ok: true; claims: PlaybackClaims }
  | { ok: false; reason: "malformed" | "bad-signature" }
  | { ok: false; reason: "expired"; claims: PlaybackClaims };

const JOB_ID = /^j_[0-9a-z]{26}$/;
const BASE36 = /^[0-9a-z]{1,12}$/;
const MAC = /^[A-Za-z0-9_-]{43}$/;
/** Domain separation: this secret might one day sign something else too. */
const CONTEXT = "medianode-playback-v1";

function mac(secret: string, payload: string): Buffer {
  return createHmac("sha256", secret).update(`${CONTEXT}\n${payload}`).digest();
}

export function signPlaybackToken(c: PlaybackClaims, secret: string): string {
  const payload = `${c.jobId}.${c.generation.toString(36)}.${c.expiresAtSec.toString(36)}`;
  return `${payload}.${mac(secret, payload).toString("base64url")}`;
}

/** The signature is checked before the expiry, so an altered expiry is 403, never 410. */
export function verifyPlaybackToken(token: string, secret: string, nowSec: number): PlaybackVerdict {
  const parts = token.split(".");
  if (parts.length !== 4) return { ok: false, reason: "malformed" };
  const [jobId, gen, exp, sig] = parts as [string, string, string, string];
  if (!JOB_ID.test(jobId) || !BASE36.test(gen) || !BASE36.test(exp) || !MAC.test(sig)) return { ok: false, reason: "malformed" };
  const want = mac(secret, `${jobId}.${gen}.${exp}`);
  const got = Buffer.from(sig, "base64url");
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: "bad-signature" };
  const claims = { jobId, generation: parseInt(gen, 36), expiresAtSec: parseInt(exp, 36) };
  if (nowSec >= claims.expiresAtSec) return { ok: false, reason: "expired", claims };
  return { ok: true, claims };
}
