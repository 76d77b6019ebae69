// Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291):
// web-push builds the request (JWT, encryption, headers); it is sent through sources/url's
// safeFetch, so the push endpoint passes the same SSRF and redirect rules as every outbound URL.
import webpush from "web-push";
import { toMedianodeError } from "../../errors";
import { safeFetch, type UrlPolicy } from "../../sources/url";
import { pushOutcome, type SendOutcome } from "./outcome";
import type { PushSubscriptionJson } from "./schema";

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

export function generateVapidKeys(): VapidKeys {
  const k = webpush.generateVAPIDKeys();
  return { publicKey: k.publicKey, privateKey: k.privateKey };
}

/** Push payloads are at most 4096 bytes after encryption (RFC 8291 §4 and push services). */
const MAX_PAYLOAD_BYTES = 3800;

/** The event JSON to push, without its `data` when the whole would not fit. Pure. */
export function pushPayload(eventJson: string): string {
  if (Buffer.byteLength(eventJson) <= MAX_PAYLOAD_BYTES) return eventJson;
  const { data: _drop, ...rest } = JSON.parse(eventJson) as Record<string, unknown>;
  return JSON.stringify({ ...rest, truncated: true });
}

export interface PushRequest {
  endpoint: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * One encrypted push request. TTL: how long the push service may hold it for an offline
 * browser; urgency: failures are "high" (wake the device), the rest "normal"; Topic: a later
 * notification of the same job replaces one still undelivered.
 */
export function pushRequest(sub: PushSubscriptionJson, payload: string, o: { vapid: VapidKeys; subject: string; ttlSec: number; urgency: "normal" | "high"; topic: string }): PushRequest {
  const d = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: sub.keys }, payload, {
    vapidDetails: { subject: o.subject, publicKey: o.vapid.publicKey, privateKey: o.vapid.privateKey },
    TTL: o.ttlSec,
    urgency: o.urgency,
    topic: o.topic.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 32) || undefined,
    contentEncoding: "aes128gcm",
  });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.headers)) headers[k] = String(v);
  return { endpoint: d.endpoint, headers, body: d.body ?? Buffer.alloc(0) };
}

/** One push attempt: POST the request through the SSRF rules; the answer is classified by pushOutcome. */
export async function postPush(req: PushRequest, policy: UrlPolicy): Promise<SendOutcome> {
  try {
    const res = await safeFetch(req.endpoint, policy, { method: "POST", headers: req.headers, body: req.body });
    await res.body?.cancel();
    return pushOutcome(res.status);
  } catch (e) {
    return { ok: false, status: null, error: toMedianodeError(e).message, retry: true };
  }
}
