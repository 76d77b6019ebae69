// Notification targets (SPEC §4, issue #18): the shapes a client sends, once. Routes, the job
// request (`notify`) and the delivery code import these. Pure checks only; the SSRF check of a
// push endpoint needs DNS and lives with the service.
import { Type as T, type Static } from "@sinclair/typebox";

export const CHANNELS = ["webhook", "email", "webpush"] as const;
export const Channel = T.Union(CHANNELS.map((c) => T.Literal(c)), { description: "webhook: an http(s) URL; email: an address; webpush: a browser PushSubscription" });
export type Channel = (typeof CHANNELS)[number];

/** The `events` of a subscription on any channel. */
export const SubscriptionEvents = T.Optional(T.Array(T.String(), { maxItems: 10, description: "Terminal events to deliver (default: all three)" }));
/** A webhook's signing secret. */
export const WebhookSecret = T.Optional(T.String({ minLength: 16, maxLength: 200, description: "Webhook HMAC secret; made for you when absent (returned once)" }));

/** What `PushSubscription.toJSON()` gives in a browser. */
export const PushSubscriptionJson = T.Object(
  {
    endpoint: T.String({ minLength: 8, maxLength: 2048, description: "The push service URL (https; http only for MEDIANODE_URL_ALLOWLIST hosts)" }),
    expirationTime: T.Optional(T.Union([T.Number(), T.Null()])),
    keys: T.Object(
      {
        p256dh: T.String({ minLength: 80, maxLength: 100, description: "The browser's P-256 public key, base64url" }),
        auth: T.String({ minLength: 16, maxLength: 32, description: "The 16-byte auth secret, base64url" }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type PushSubscriptionJson = Static<typeof PushSubscriptionJson>;

/** A job's own one-off notifications (top-level `notify`, like `webhook`). */
export const JobNotify = T.Object(
  {
    email: T.Optional(T.String({ minLength: 3, maxLength: 254, description: "Address mailed on the job's terminal event" })),
    webpush: T.Optional(PushSubscriptionJson),
  },
  { additionalProperties: false, description: "One-off notifications of this job's terminal event" },
);
export type JobNotify = Static<typeof JobNotify>;

// The WHATWG HTML form rule for e-mail addresses: no display names, comments or quoted local
// parts, so nothing can smuggle a second recipient or a header line into the envelope.
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;

/** The address if it is one plain address, else a reason. Pure. */
export function emailProblem(raw: string): string | null {
  if (raw.length > 254) return "an address is at most 254 characters";
  if (!EMAIL.test(raw)) return `"${raw.slice(0, 80)}" is not a single plain e-mail address (user@example.com)`;
  if (raw.split("@")[0]!.length > 64) return "the part before @ is at most 64 characters";
  return null;
}

function base64urlBytes(s: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(s)) return null;
  return Buffer.from(s.replace(/=+$/, ""), "base64url");
}

/** Why a PushSubscription cannot be encrypted to, or null. Pure (the endpoint's host is checked later). */
export function pushSubscriptionProblem(sub: PushSubscriptionJson): string | null {
  let u: URL;
  try {
    u = new URL(sub.endpoint);
  } catch {
    return "endpoint is not a URL";
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return "endpoint must be an https URL";
  if (u.username || u.password) return "endpoint must not carry credentials";
  const p256dh = base64urlBytes(sub.keys.p256dh);
  // RFC 8291 §3.1: an uncompressed P-256 point (65 bytes, 0x04 first) and a 16-byte auth secret.
  if (!p256dh || p256dh.length !== 65 || p256dh[0] !== 4) return "keys.p256dh must be an uncompressed P-256 public key (65 bytes, base64url)";
  const auth = base64urlBytes(sub.keys.auth);
  if (!auth || auth.length !== 16) return "keys.auth must be 16 bytes, base64url";
  return null;
}
