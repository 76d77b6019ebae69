// One webhook delivery attempt over HTTP: the signed POST and what came of it. The SSRF rules
// of URL sources apply (no redirects, allowlist); the response body is never read.
import { toMedianodeError } from "../../errors";
import { safeFetch, type UrlPolicy } from "../../sources/url";
import { signBody, SIGNATURE_HEADER } from "./sign";

export interface DeliveryOutcome {
  /** The endpoint's HTTP status, or null when it could not be reached. */
  status: number | null;
  /** Why the attempt failed; null on a 2xx. */
  error: string | null;
  durationMs: number;
}

export async function postDelivery(url: string, body: string, secret: string, policy: UrlPolicy, nowSec: number): Promise<DeliveryOutcome> {
  const started = performance.now();
  let status: number | null = null;
  let error: string | null = null;
  try {
    const res = await safeFetch(url, policy, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "medianode-webhooks", [SIGNATURE_HEADER]: signBody(secret, body, nowSec) },
      body,
    });
    status = res.status;
    await res.body?.cancel();
    if (status < 200 || status >= 300) error = `HTTP ${status}`;
  } catch (e) {
    error = toMedianodeError(e).message;
  }
  return { status, error, durationMs: Math.round(performance.now() - started) };
}
