// Network namespaces for tests that run nodes as separate hosts: a bridge in the test's own
// namespace and one namespace per "host", joined by veth pairs, on 10.200.<net>.0/24 addresses
// that exist only here. Nothing is routed anywhere else. Needs root (ip netns add).

const ip = (...args: string[]) => Bun.spawnSync(["ip", ...args], { stdout: "pipe", stderr: "pipe" });

/** null when namespaces can be made here; otherwise why not (the test skips with it). */
export function netnsUnsupportedReason(): string | null {
  if (process.platform !== "linux") return `network namespaces need Linux (this is ${process.platform})`;
  const probe = `mnprobe${process.pid}`;
  let r;
  try {
    r = ip("netns", "add", probe);
  } catch (e) {
    return `the ip command is not available (${(e as Error).message})`;
  }
  if (r.exitCode !== 0) return `ip netns add is not allowed here: ${r.stderr.toString().trim() || `exit ${r.exitCode}`}`;
  ip("netns", "del", probe);
  const b = ip("link", "add", `${probe.slice(0, 10)}b`, "type", "bridge");
  if (b.exitCode !== 0) return `a bridge cannot be made here: ${b.stderr.toString().trim()}`;
  ip("link", "del", `${probe.slice(0, 10)}b`);
  return null;
}

export interface Netns {
  /** The address of the test's own side (where the api node and Redis listen). */
  hostAddress: string;
  /** One per namespace: its name, its address, and the prefix that runs a command inside it. */
  spaces: { name: string; address: string; wrap: string[] }[];
  remove(): void;
}

function must(r: ReturnType<typeof ip>, what: string): void {
  if (r.exitCode !== 0) throw new Error(`${what}: ${r.stderr.toString().trim()}`);
}

/** A bridge at 10.200.<net>.1 and `count` namespaces at .2, .3, … each with loopback up. */
export function createNetns(count: number): Netns {
  const tag = String(process.pid % 100000);
  const net = 100 + (process.pid % 150);
  const bridge = `mnb${tag}`;
  const spaces = Array.from({ length: count }, (_, i) => ({ name: `mn${tag}n${i}`, address: `10.200.${net}.${i + 2}`, wrap: ["ip", "netns", "exec", `mn${tag}n${i}`] }));
  const remove = () => {
    for (const s of spaces) ip("netns", "del", s.name);
    ip("link", "del", bridge);
  };
  try {
    must(ip("link", "add", bridge, "type", "bridge"), "bridge");
    must(ip("addr", "add", `10.200.${net}.1/24`, "dev", bridge), "bridge address");
    must(ip("link", "set", bridge, "up"), "bridge up");
    spaces.forEach((s, i) => {
      const veth = `mnv${tag}${i}`;
      must(ip("netns", "add", s.name), `netns ${s.name}`);
      must(ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", s.name), "veth");
      must(ip("link", "set", veth, "master", bridge, "up"), "veth up");
      must(ip("-n", s.name, "addr", "add", `${s.address}/24`, "dev", "eth0"), "address");
      must(ip("-n", s.name, "link", "set", "eth0", "up"), "eth0 up");
      must(ip("-n", s.name, "link", "set", "lo", "up"), "lo up");
    });
  } catch (e) {
    remove();
    throw e;
  }
  return { hostAddress: `10.200.${net}.1`, spaces, remove };
}
