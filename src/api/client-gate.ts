// The first thing a request meets: who the client is (through trusted proxies only) and the
// per-IP rate limit on that address. The api app reads the same ClientInfo back by request.
import type { Config } from "../config/schema";
import { MedianodeError, RateLimitedError } from "../errors";
import type { Logger } from "../log";
import { errorResponse } from "./app";
import { clientInfo, createProxyTrust, type ClientInfo } from "./forwarded";
import { createRateLimiter } from "./rate-limit";

export interface ClientGate {
  /** Who sent `req` (as admit() found); without admit, the request's own headers are ignored. */
  clientOf(req: Request): ClientInfo;
  /** Records the client of `req` from its peer address; a 429 response when it is over its rate. */
  admit(req: Request, peer: string | undefined): Response | null;
}

const LOG_EVERY_MS = 60_000;

export function createClientGate(config: Pick<Config, "trustedProxies" | "rateLimitPerIp">, log: Logger): ClientGate {
  const trust = createProxyTrust(config.trustedProxies);
  const perIp = createRateLimiter(config.rateLimitPerIp, "address");
  const clients = new WeakMap<Request, ClientInfo>();
  // One log line per limited address per minute: a flood must not become a flood of logs.
  const loggedAt = new Map<string, number>();
  return {
    clientOf: (req) => clients.get(req) ?? clientInfo(req.headers, undefined, new URL(req.url), trust),
    admit(req, peer) {
      const url = new URL(req.url);
      const c = clientInfo(req.headers, peer, url, trust);
      clients.set(req, c);
      try {
        perIp.take(c.ip);
        return null;
      } catch (e) {
        if (!(e instanceof MedianodeError)) throw e;
        const now = Date.now();
        if ((loggedAt.get(c.ip) ?? 0) < now - LOG_EVERY_MS) {
          if (loggedAt.size > 10_000) loggedAt.clear();
          loggedAt.set(c.ip, now);
          log.warn("rate limited", { ip: c.ip, method: req.method, path: url.pathname, limitPerSec: config.rateLimitPerIp });
        }
        return errorResponse(new RateLimitedError(e.message, { ...(e.details as object), address: c.ip }));
      }
    },
  };
}
