import { createHmac } from "node:crypto";

/** `X-Medianode-Signature: t=<unix>,v1=<hex hmac-sha256(secret, t + "." + body)>` (SPEC §4). Pure. */
export function signBody(secret: string, body: string, unixSec: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSec}.${body}`).digest("hex");
  return `t=${unixSec},v1=${mac}`;
}

export const SIGNATURE_HEADER = "X-Medianode-Signature";

/**
 * The signing secret of a JWT tenant's own job webhooks: derived from MEDIANODE_JWT_SECRET and
 * the subject, so the backend that issues the JWTs can compute each tenant's, and no tenant
 * can compute another's. Pure: hex HMAC-SHA256(jwtSecret, "medianode-webhook:" + sub).
 */
export function jwtWebhookSecret(jwtSecret: string, sub: string): string {
  return createHmac("sha256", jwtSecret).update(`medianode-webhook:${sub}`).digest("hex");
}
