// A real HTTP push service for tests: it receives Web Push requests, verifies the VAPID JWT
// (RFC 8292: ES256 against the server's public key) and decrypts the aes128gcm payload with the
// subscription's private key (RFC 8291), written here with node:crypto only (ECDH, HKDF,
// AES-128-GCM), independently of the web-push library the server uses.
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify as verifySig, type ECDH } from "node:crypto";

export interface BrowserSubscription {
  /** The PushSubscription JSON a browser would give. */
  json: { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
  ecdh: ECDH;
  auth: Buffer;
}

/** What a browser makes: a P-256 key pair and a 16-byte auth secret. */
export function browserSubscription(endpoint: string): BrowserSubscription {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, auth, json: { endpoint, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") } } };
}

/** RFC 8291 §3.4 + RFC 8188 §2: one record, `salt(16) rs(4) idlen(1) keyid(65) ciphertext`. */
export function decryptAes128gcm(body: Buffer, sub: Pick<BrowserSubscription, "ecdh" | "auth">): string {
  const salt = body.subarray(0, 16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  const uaPublic = sub.ecdh.getPublicKey();
  const ecdhSecret = sub.ecdh.computeSecret(asPublic);
  // IKM = HKDF(salt = auth_secret, ikm = ecdh_secret, info = "WebPush: info" 0x00 ua_public as_public, L = 32)
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), uaPublic, asPublic]);
  const ikm = Buffer.from(hkdfSync("sha256", ecdhSecret, sub.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16));
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12));
  const d = createDecipheriv("aes-128-gcm", cek, nonce);
  d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - 16)), d.final()]);
  // The last record ends with the delimiter 0x02 followed by zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error("no last-record delimiter");
  return padded.subarray(0, end).toString("utf8");
}

export interface VapidClaims {
  aud: string;
  exp: number;
  sub: string;
}

/** `Authorization: vapid t=<jwt>, k=<public key>` → the claims, after checking ES256 against `publicKey`. */
export function verifyVapid(authorization: string | null, publicKey: string): VapidClaims {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? "");
  if (!m) throw new Error(`not a VAPID authorization: ${authorization}`);
  if (m[2] !== publicKey) throw new Error("k= is not the server's VAPID public key");
  const [h, p, s] = m[1]!.split(".");
  const headerJson = JSON.parse(Buffer.from(h!, "base64url").toString()) as { alg: string; typ: string };
  if (headerJson.alg !== "ES256") throw new Error(`alg ${headerJson.alg}`);
  const raw = Buffer.from(publicKey, "base64url");
  const key = createPublicKey({ key: { kty: "EC", crv: "P-256", x: raw.subarray(1, 33).toString("base64url"), y: raw.subarray(33, 65).toString("base64url") }, format: "jwk" });
  // JWS ES256 signatures are r||s (64 bytes): "ieee-p1363" in node's terms.
  const ok = verifySig("sha256", Buffer.from(`${h}.${p}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(s!, "base64url"));
  if (!ok) throw new Error("VAPID JWT signature does not verify");
  return JSON.parse(Buffer.from(p!, "base64url").toString()) as VapidClaims;
}

export interface PushHit {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** The push service: answers each request with `answer(n)` (1-based). */
export function startPushService(answer: (n: number) => number) {
  const hits: PushHit[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      hits.push({ path: new URL(req.url).pathname, headers: Object.fromEntries(req.headers), body: Buffer.from(await req.arrayBuffer()) });
      return new Response(null, { status: answer(hits.length) });
    },
  });
  return { origin: `http://127.0.0.1:${server.port}`, hits, stop: () => server.stop(true) };
}
