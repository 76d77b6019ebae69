import { createHmac } from "node:crypto";

/** `X-Medianode-Signature: t=<unix>,v1=<hex hmac-sha256(secret, t + "." + body)>` (SPEC §4). Pure. */
export function signBody(secret: string, body: string, unixSec: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSec}.${body}`).digest("hex");
  return `t=${unixSec},v1=${mac}`;
}

export const SIGNATURE_HEADER = "X-Medianode-Signature";
