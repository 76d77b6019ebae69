import { ForbiddenError, UnauthorizedError } from "../errors";
import type { Principal, Scope } from "../services/deps";
import type { TokenCheck } from "../services/tokens";
import { looksLikeJwt, verifyJwt } from "./jwt";

/** Bearer header, or `?token=` (WebSocket and media players cannot always set headers). */
export function tokenFrom(request: Request): string | null {
  const h = request.headers.get("authorization");
  if (h) {
    const m = /^Bearer\s+(\S+)$/i.exec(h);
    return m ? m[1]! : null;
  }
  const q = new URL(request.url).searchParams.get("token");
  return q || null;
}

/**
 * `tokens` null: a process that cannot read the record store (a monitor on another host with
 * SQLite) accepts JWTs only, since an opaque token is checked against its record.
 */
export function authenticate(tokens: TokenCheck | null, request: Request, jwtSecret?: string): Principal {
  const text = tokenFrom(request);
  if (!text) throw new UnauthorizedError("missing token: send Authorization: Bearer <token>");
  const jwt = !!jwtSecret && looksLikeJwt(text);
  if (!jwt && !tokens) throw new UnauthorizedError("this node cannot read the record store, so it accepts JWTs only (MEDIANODE_JWT_SECRET), not opaque tokens");
  const p = jwt ? verifyJwt(text, jwtSecret) : tokens!(text);
  if (!p) throw new UnauthorizedError("invalid, expired or revoked token");
  return p;
}

/** admin implies every scope. */
export function requireScope(p: Principal, scope: Scope): void {
  if (p.scopes.includes("admin") || p.scopes.includes(scope)) return;
  throw new ForbiddenError(`this token lacks the ${scope} scope`);
}
