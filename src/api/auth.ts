import { ForbiddenError, UnauthorizedError } from "../errors";
import type { Principal, Scope } from "../services/deps";
import type { TokenCheck } from "../services/tokens";
import { looksLikeJwt, verifyJwt } from "./jwt";

/**
 * Where a token may come in the query string: the WebSockets (browsers cannot set headers on
 * one: the event stream, a channel's listeners and its broadcaster, SPEC §12) and GET of an output file (a media player or a link opened in a new tab). Anywhere
 * else a `?token=` would end up in proxy logs and browser history for no need (issue #12). Pure.
 */
export function queryTokenAllowed(method: string, pathname: string): boolean {
  if (pathname === "/v1/events" || pathname === "/v1/stream") return true;
  if (method === "GET" && /^\/v1\/channels\/[^/]+\/live$/.test(pathname)) return true;
  return (method === "GET" || method === "HEAD") && /^\/v1\/jobs\/[^/]+\/outputs\/./.test(pathname);
}

/** Bearer header, or `?token=` where queryTokenAllowed says so. */
export function tokenFrom(request: Request): string | null {
  const h = request.headers.get("authorization");
  if (h) return bearerToken(h);
  const url = new URL(request.url);
  const q = url.searchParams.get("token");
  if (q && !queryTokenAllowed(request.method, url.pathname)) {
    throw new UnauthorizedError("?token= is accepted only on the WebSockets (/v1/events, /v1/stream, /v1/channels/:name/live) and output downloads: send Authorization: Bearer <token>");
  }
  return q || null;
}

/**
 * `tokens` null: a process that cannot read the record store (a monitor on another host with
 * SQLite) accepts JWTs only, since an opaque token is checked against its record.
 */
export async function authenticate(tokens: TokenCheck | null, request: Request, jwtSecret?: string): Promise<Principal> {
  return await principalOfToken(tokens, tokenFrom(request), jwtSecret);
}

/** The token of an `authorization` header value (`Bearer <token>`), or null. Pure. */
export function bearerToken(header: string | null | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return m ? m[1]! : null;
}

/** The principal of a token's text (an opaque token or a JWT), as every route checks it. */
export async function principalOfToken(tokens: TokenCheck | null, text: string | null, jwtSecret?: string): Promise<Principal> {
  if (!text) throw new UnauthorizedError("missing token: send Authorization: Bearer <token>");
  const jwt = !!jwtSecret && looksLikeJwt(text);
  if (!jwt && !tokens) throw new UnauthorizedError("this node cannot read the record store, so it accepts JWTs only (MEDIANODE_JWT_SECRET), not opaque tokens");
  const p = jwt ? verifyJwt(text, jwtSecret) : await tokens!(text);
  if (!p) throw new UnauthorizedError("invalid, expired or revoked token");
  return p;
}

/** admin implies every scope. */
export function requireScope(p: Principal, scope: Scope): void {
  if (p.scopes.includes("admin") || p.scopes.includes(scope)) return;
  throw new ForbiddenError(`this token lacks the ${scope} scope`);
}
