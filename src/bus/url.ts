// MEDIANODE_BUS_URL → which bus, and how to name it in logs without its password (pure).
import { BadRequestError } from "../errors";

export type BusKind = "amqp" | "nats";

export interface BusTarget {
  kind: BusKind;
  /** As given: the client libraries read user, password, vhost (AMQP) and servers from it. */
  url: string;
  /** The URL with any password masked, for logs, /readyz and doctor. */
  shown: string;
  /** NATS: host:port list for the client; AMQP: unused. */
  servers: string[];
  /** NATS credentials from the URL's user part, when given. */
  user?: string;
  pass?: string;
}

/** Masks the password (or a lone token) of a URL's user part. */
export function maskUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, (_, cred: string) => `//${cred.includes(":") ? cred.replace(/:.*/, ":***") : "***"}@`);
}

export function parseBusUrl(url: string): BusTarget {
  const u = URL.canParse(url) ? new URL(url) : null;
  if (!u) throw new BadRequestError(`MEDIANODE_BUS_URL: not a URL: ${JSON.stringify(maskUrl(url))}`);
  const scheme = u.protocol.replace(/:$/, "");
  const shown = maskUrl(url);
  if (scheme === "amqp" || scheme === "amqps") {
    if (!u.hostname) throw new BadRequestError(`MEDIANODE_BUS_URL: no host in ${shown}`);
    return { kind: "amqp", url, shown, servers: [u.host] };
  }
  if (scheme === "nats" || scheme === "tls") {
    if (!u.hostname) throw new BadRequestError(`MEDIANODE_BUS_URL: no host in ${shown}`);
    const user = u.username ? decodeURIComponent(u.username) : undefined;
    const pass = u.password ? decodeURIComponent(u.password) : undefined;
    return { kind: "nats", url, shown, servers: [`${scheme === "tls" ? "tls://" : ""}${u.hostname}:${u.port || "4222"}`], ...(user ? { user } : {}), ...(pass ? { pass } : {}) };
  }
  throw new BadRequestError(`MEDIANODE_BUS_URL: expected amqp://, amqps://, nats:// or tls://, got ${shown}`);
}
