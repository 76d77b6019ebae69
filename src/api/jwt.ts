// HS256 JWTs from an upstream backend (SPEC §7): sub = tenant. Verified here rather than with
// an async library because every route resolves its principal synchronously; the checks are
// the standard ones: exactly alg HS256 (no "none", no other algorithm), a constant-time
// signature compare, exp required and enforced, nbf honoured, sub required.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Principal, Scope } from "../services/deps";

/** Scopes a JWT may carry; admin and worker are for medianode's own tokens only. */
const JWT_SCOPES: readonly Scope[] = ["jobs:read", "jobs:write"];
const LEEWAY_SEC = 30;

function b64json(part: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * A JWT's tenant: its subject in a namespace of its own, so `sub=admin` never meets the token
 * tenant "admin" (token tenants cannot contain ':', services/tokens.ts). Pure.
 */
export const jwtTenant = (sub: string) => `jwt:${sub}`;

export function looksLikeJwt(text: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(text);
}

/** The principal of a valid token, or null (never throws on junk). */
export function verifyJwt(text: string, secret: string, nowSec = Math.floor(Date.now() / 1000)): Principal | null {
  const [h, p, sig] = text.split(".");
  if (!h || !p || sig === undefined) return null;
  const header = b64json(h);
  if (!header || header.alg !== "HS256" || (header.typ !== undefined && header.typ !== "JWT")) return null;
  const expected = createHmac("sha256", secret).update(`${h}.${p}`).digest();
  const given = Buffer.from(sig, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const claims = b64json(p);
  if (!claims) return null;
  const { sub, exp, nbf } = claims;
  if (typeof sub !== "string" || !/^[\w.@:-]{1,128}$/.test(sub)) return null;
  if (typeof exp !== "number" || exp + LEEWAY_SEC < nowSec) return null;
  if (typeof nbf === "number" && nbf - LEEWAY_SEC > nowSec) return null;
  const asked = typeof claims.scope === "string" ? claims.scope.split(" ") : JWT_SCOPES;
  const scopes = JWT_SCOPES.filter((s) => asked.includes(s));
  if (scopes.length === 0) return null;
  return { tokenId: `jwt:${sub}`, name: sub, tenant: jwtTenant(sub), scopes, expiresAtMs: (exp + LEEWAY_SEC) * 1000 };
}
