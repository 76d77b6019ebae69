// Outbound HTTP for URL sources (and, later, webhooks): http(s) only, private and
// metadata addresses refused unless allowlisted, every redirect re-checked, size/time caps.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { ForbiddenError, PayloadTooLargeError, SourceUnreachableError } from "../errors";
import { streamToFile } from "./upload";

const BLOCKED_RANGES = new Set(["unspecified", "broadcast", "multicast", "linkLocal", "loopback", "private", "reserved", "carrierGradeNat", "uniqueLocal", "ipv4Mapped", "rfc6145", "rfc6052", "6to4", "teredo", "benchmarking", "amt", "as112", "as112v6", "orchid2", "deprecated", "deprecatedSiteLocal", "discard"]);

const IPV4_COMPATIBLE = ipaddr.parseCIDR("::/96");

export interface UrlPolicy {
  /** Hostnames, IPs or CIDRs that may be reached despite the rules (MEDIANODE_URL_ALLOWLIST). */
  allowlist: string[];
  maxBytes: number;
  timeoutMs: number;
  maxRedirects?: number;
}

function allowlisted(host: string, addr: string | null, allow: string[]): boolean {
  for (const entry of allow) {
    if (entry.toLowerCase() === host.toLowerCase()) return true;
    if (addr && entry.includes("/")) {
      try {
        const [range, bits] = ipaddr.parseCIDR(entry);
        const a = ipaddr.process(addr);
        if (a.kind() === range.kind() && a.match([range, bits])) return true;
      } catch {
        // not a CIDR
      }
    } else if (addr && entry === addr) return true;
  }
  return false;
}

/** True for addresses a URL source may not reach (pure). */
export function isBlockedAddress(addr: string): boolean {
  const a = ipaddr.process(addr);
  if (BLOCKED_RANGES.has(a.range())) return true;
  // IPv4-compatible addresses (::/96, RFC 4291 §2.5.5.1, deprecated): `[::127.0.0.1]` is
  // written back by the URL parser as `[::7f00:1]`, which ipaddr.js calls plain unicast, yet
  // some stacks route it to 127.0.0.1. No real host lives there: refuse the whole range.
  return a.kind() === "ipv6" && a.match(IPV4_COMPATIBLE);
}

/** Resolves the URL's host and refuses private/loopback/link-local/metadata targets. */
export async function checkUrl(raw: string, policy: UrlPolicy): Promise<URL> {
  return (await resolveChecked(raw, policy)).url;
}

export interface CheckedUrl {
  url: URL;
  /** The address that passed the check; null for allowlisted host names (resolved by fetch). */
  address: string | null;
}

/**
 * The request that connects to exactly the checked address (no second DNS answer between
 * check and connect: DNS rebinding). Host header and TLS server name keep the real host. Pure.
 */
export function pinnedRequest(c: CheckedUrl): { url: string; headers: Record<string, string>; tls?: { serverName: string } } {
  const host = c.url.hostname.replace(/^\[|\]$/g, "");
  if (!c.address || isIP(host)) return { url: c.url.toString(), headers: {} };
  const pinned = new URL(c.url.toString());
  pinned.hostname = isIP(c.address) === 6 ? `[${c.address}]` : c.address;
  return {
    url: pinned.toString(),
    headers: { host: c.url.host },
    ...(c.url.protocol === "https:" ? { tls: { serverName: host } } : {}),
  };
}

async function resolveChecked(raw: string, policy: UrlPolicy): Promise<CheckedUrl> {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new SourceUnreachableError("malformed URL");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new ForbiddenError(`only http and https URLs are allowed, not ${u.protocol}`);
  if (u.username || u.password) throw new ForbiddenError("URLs with credentials are not allowed");
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (allowlisted(host, null, policy.allowlist)) return { url: u, address: null };
  let addrs: string[];
  if (isIP(host)) addrs = [host];
  else {
    try {
      addrs = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw new SourceUnreachableError(`cannot resolve ${host}`);
    }
  }
  for (const a of addrs) {
    if (isBlockedAddress(a) && !allowlisted(host, a, policy.allowlist)) {
      throw new ForbiddenError(`URL resolves to a private or reserved address (${a}); allow it with MEDIANODE_URL_ALLOWLIST`);
    }
  }
  return { url: u, address: addrs[0] ?? null };
}

/** fetch with manual redirects, each hop checked. */
export async function safeFetch(raw: string, policy: UrlPolicy, init: RequestInit = {}): Promise<Response> {
  let url = raw;
  for (let hop = 0; hop <= (policy.maxRedirects ?? 5); hop++) {
    const checked = await resolveChecked(url, policy);
    const u = checked.url;
    const pin = pinnedRequest(checked);
    let res: Response;
    try {
      res = await fetch(pin.url, {
        ...init,
        headers: { ...(init.headers as Record<string, string> | undefined), ...pin.headers },
        ...(pin.tls ? { tls: pin.tls } : {}),
        redirect: "manual",
        signal: init.signal ?? AbortSignal.timeout(policy.timeoutMs),
      });
    } catch (e) {
      throw new SourceUnreachableError(`cannot fetch ${u.host}: ${(e as Error).message}`);
    }
    if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
      await res.body?.cancel();
      url = new URL(res.headers.get("location")!, u).toString();
      continue;
    }
    return res;
  }
  throw new SourceUnreachableError("too many redirects");
}

/** Downloads a URL source to `path` under the size cap. */
export async function downloadUrl(raw: string, path: string, policy: UrlPolicy): Promise<number> {
  const res = await safeFetch(raw, policy);
  if (!res.ok || !res.body) throw new SourceUnreachableError(`source answered HTTP ${res.status}`);
  const len = Number(res.headers.get("content-length") ?? NaN);
  if (Number.isFinite(len) && len > policy.maxBytes) {
    await res.body.cancel();
    throw new PayloadTooLargeError(`source is ${len} bytes, over the limit of ${policy.maxBytes}`);
  }
  return await streamToFile(res.body, path, policy.maxBytes);
}

/**
 * The first `bytes` of a URL source (a Range request; a server that ignores Range is read
 * only that far, then cut), for sniffing at submit. Errors are the usual source errors.
 */
export async function fetchHead(raw: string, policy: UrlPolicy, bytes: number): Promise<Uint8Array> {
  const res = await safeFetch(raw, policy, { headers: { range: `bytes=0-${bytes - 1}` } });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new SourceUnreachableError(`source answered HTTP ${res.status}`);
  }
  const parts: Uint8Array[] = [];
  let got = 0;
  const reader = res.body.getReader();
  try {
    while (got < bytes) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      got += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(parts).subarray(0, bytes);
}
