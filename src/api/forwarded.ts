// Who the client is and which URL it used, when a reverse proxy may stand in between (SPEC §6
// MEDIANODE_TRUSTED_PROXIES). X-Forwarded-* is believed only from a trusted peer: anyone else
// could write any address there and dodge the per-IP limit or poison the URLs the node writes.
// Pure: the peer address and headers in, the client out.
import ipaddr from "ipaddr.js";

export interface ClientInfo {
  /** The client's address: the peer, or what trusted proxies say the peer of the first was. */
  ip: string;
  proto: "http" | "https";
  /** host[:port] the client asked for. */
  host: string;
  /** proto://host, for absolute URLs in responses. */
  origin: string;
}

export type ProxyTrust = (ip: string) => boolean;

/** Normalises IPv4-mapped IPv6 (::ffff:10.0.0.1) to IPv4 so one address has one spelling. */
function parse(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = ip.trim().replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  if (!ipaddr.isValid(bare)) return null;
  return ipaddr.process(bare);
}

/** A matcher for IPs and CIDRs (config values already checked by config/load.ts). */
export function createProxyTrust(list: readonly string[]): ProxyTrust {
  const ranges = list.map((entry): [ipaddr.IPv4 | ipaddr.IPv6, number] => {
    if (entry.includes("/")) return ipaddr.parseCIDR(entry);
    const a = ipaddr.process(entry);
    return [a, a.kind() === "ipv4" ? 32 : 128];
  });
  if (ranges.length === 0) return () => false;
  return (ip) => {
    const a = parse(ip);
    return a !== null && ranges.some(([range, bits]) => range.kind() === a.kind() && a.match(range as never, bits));
  };
}

/** `a, b, c` → ["a","b","c"] (several headers of one name arrive joined by commas). */
const list = (v: string | null): string[] =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

const HOST = /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i;

/**
 * The client behind `peer`. With a trusted peer, X-Forwarded-For is read from the right,
 * skipping trusted proxies: the first untrusted address is the client (so a client cannot
 * prepend a fake one). X-Forwarded-Proto and -Host are the first proxy's (leftmost) values.
 */
export function clientInfo(headers: Headers, peer: string | undefined, url: URL, trusted: ProxyTrust): ClientInfo {
  const direct = { ip: peer ?? "unknown", proto: url.protocol === "https:" ? "https" : "http", host: headers.get("host") ?? url.host } as const;
  let c: { ip: string; proto: "http" | "https"; host: string } = { ...direct };
  if (peer !== undefined && trusted(peer)) {
    const hops = list(headers.get("x-forwarded-for"));
    let ip = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (!parse(hop)) break; // garbage: stop at the last address we can vouch for
      ip = parse(hop)!.toString();
      if (!trusted(hop)) break;
    }
    const proto = list(headers.get("x-forwarded-proto"))[0]?.toLowerCase();
    const host = list(headers.get("x-forwarded-host"))[0];
    c = { ip, proto: proto === "https" || proto === "http" ? proto : direct.proto, host: host && HOST.test(host) ? host : direct.host };
  }
  const ip = parse(c.ip)?.toString() ?? c.ip;
  return { ...c, ip, origin: `${c.proto}://${c.host}` };
}
