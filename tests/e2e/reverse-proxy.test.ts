// A real medianode behind Debian's nginx and Caddy, each running the README's own config
// block: uploads stream through unbuffered and uncapped, the WebSocket upgrades, and the node
// sees the client's address and the URL it used (MEDIANODE_TRUSTED_PROXIES=127.0.0.1).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { readmeBlock, startNginx, waitUp, type Proxy } from "../helpers/nginx";
import { join } from "node:path";
import { requestFrom } from "../helpers/http-from";
import { spawnNode, type NodeProcess } from "../helpers/processes";
import { freePort, startTestRedis, type TestRedis } from "../helpers/redis";
import { tempDir } from "../helpers/tmp";
import { wsConnect } from "../helpers/ws";

const CADDY = Bun.which("caddy");

/** The README's Caddy block on plain HTTP at 127.0.0.1:`port`, pointed at `upstream`. */
function caddyConfig(upstream: string, port: number): string {
  const site = readmeBlock("caddy", "reverse_proxy").replace("media.example.com {", `http://127.0.0.1:${port} {`).replace("reverse_proxy 127.0.0.1:8080", `reverse_proxy ${new URL(upstream).host}`);
  return `{\n\tadmin off\n\tauto_https off\n}\n${site}`;
}

async function startCaddy(upstream: string, dir: string): Promise<Proxy> {
  if (!CADDY) throw new Error("caddy is not installed: scripts/setup.sh test installs it");
  const port = await freePort();
  const file = join(dir, "Caddyfile");
  writeFileSync(file, caddyConfig(upstream, port));
  // Its state (autosave, certificates) goes to the temp folder, not to $HOME.
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
  const check = Bun.spawnSync([CADDY, "validate", "--config", file, "--adapter", "caddyfile"], { env, stdout: "pipe", stderr: "pipe" });
  if (check.exitCode !== 0) throw new Error(`caddy validate: ${check.stderr.toString().slice(-2000)}`);
  const proc = Bun.spawn([CADDY, "run", "--config", file, "--adapter", "caddyfile"], { env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  let log = "";
  void new Response(proc.stderr).text().then((t) => (log = t));
  const url = `http://127.0.0.1:${port}`;
  await waitUp(url, () => log);
  return { url, stop: async () => void (proc.kill("SIGTERM"), await proc.exited) };
}

let redis: TestRedis;
let node: NodeProcess;
const data = tempDir();
const conf = { nginx: tempDir("medianode-nginx-"), caddy: tempDir("medianode-caddy-") };
const proxies: Partial<Record<"nginx" | "caddy", Proxy>> = {};
let token: string;

beforeAll(async () => {
  redis = await startTestRedis();
  node = await spawnNode(["serve", "--data-dir", data.path], {
    REDIS_URL: redis.url,
    MEDIANODE_TRUSTED_PROXIES: "127.0.0.1",
    // 20/s, bursts of 80: the test's own requests stay under it, a quick loop goes over.
    MEDIANODE_RATE_LIMIT_PER_IP: "20",
    MEDIANODE_LOG_FORMAT: "json",
  });
  const direct = /serving on (http:\/\/\S+)/.exec(node.banner)![1]!;
  token = readFileSync(join(data.path, "admin.token"), "utf8").trim();
  proxies.nginx = await startNginx(direct, conf.nginx.path);
  proxies.caddy = await startCaddy(direct, conf.caddy.path);
});

afterAll(async () => {
  await proxies.nginx?.stop();
  await proxies.caddy?.stop();
  if (node && node.proc.exitCode === null) {
    node.proc.kill("SIGTERM");
    await node.proc.exited;
  }
  await redis?.stop();
  data.remove();
  conf.nginx.remove();
  conf.caddy.remove();
});

const auth = () => ({ authorization: `Bearer ${token}` });
const MiB = 1024 * 1024;

/** A WAV header for `bytes` of 8 kHz mono s16le silence: media of any size, made here. */
function wavHeader(bytes: number): Uint8Array {
  const h = Buffer.alloc(44);
  h.write("RIFF", 0);
  h.writeUInt32LE(36 + bytes, 4);
  h.write("WAVEfmt ", 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(16000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write("data", 36);
  h.writeUInt32LE(bytes, 40);
  return h;
}

/** Bytes the node has written under its data dir (media, upload parts), the database aside. */
function bytesOnDisk(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += bytesOnDisk(p);
    else if (!e.name.startsWith("medianode.db")) n += statSync(p).size;
  }
  return n;
}

describe.each([
  ["nginx", "127.0.0.3"],
  ["caddy", "127.0.0.5"],
] as const)("behind %s", (name, clientIp) => {
  const proxied = () => proxies[name]!.url;

  test("an upload streams through as it is sent (no buffering, no size cap) and becomes a job", async () => {
    const half = new Uint8Array(4 * MiB);
    let sendRest!: () => void;
    const restGate = new Promise<void>((r) => (sendRest = r));
    const body = new ReadableStream<Uint8Array>({
      async start(c) {
        c.enqueue(wavHeader(8 * MiB));
        c.enqueue(half);
        await restGate;
        c.enqueue(half);
        c.close();
      },
    });
    const before = bytesOnDisk(data.path);
    const res = fetch(`${proxied()}/v1/jobs?type=probe`, { method: "POST", headers: { ...auth(), "content-type": "audio/wav" }, body, duplex: "half" } as RequestInit);
    // Half the body is sent and the rest held back: the node must already be writing it
    // (a buffering proxy would hold it all until the end; nginx's default cap is 1 MiB).
    let seen = 0;
    for (let i = 0; i < 150 && seen < 3 * MiB; i++) {
      await Bun.sleep(100);
      seen = bytesOnDisk(data.path) - before;
    }
    expect(seen).toBeGreaterThanOrEqual(3 * MiB);
    sendRest();
    const r = await res;
    const job = (await r.json()) as { id: string; source: { bytes: number } };
    expect(r.status).toBe(202);
    expect(job.source.bytes).toBe(8 * MiB + 44);
    // The URL the node writes is the proxy's, not the node's own port.
    expect(r.headers.get("location")).toBe(`${proxied()}/v1/jobs/${job.id}`);
  });

  test("the event stream's WebSocket upgrades through it and carries events", async () => {
    const ws = await wsConnect(`${proxied().replace("http", "ws")}/v1/events?token=${token}`);
    try {
      const r = await fetch(`${proxied()}/v1/jobs?type=probe`, { method: "POST", headers: { ...auth(), "content-type": "audio/wav" }, body: Buffer.concat([wavHeader(16000), new Uint8Array(16000)]) });
      const job = (await r.json()) as { id: string };
      expect(r.status).toBe(202);
      const done = await ws.next((m) => m.jobId === job.id && m.type === "job.completed", 60_000);
      expect(done.status).toBe("completed");
    } finally {
      ws.close();
    }
  });

  test("the node sees the client's own address: its per-IP limit is that client's", async () => {
    // This client has an address of its own; the proxy (127.0.0.1, trusted) forwards it.
    let limited: { address: string } | null = null;
    for (let i = 0; i < 400 && !limited; i++) {
      const r = await requestFrom(clientIp, `${proxied()}/healthz`);
      if (r.status === 429) limited = (JSON.parse(r.body) as { error: { details: { address: string } } }).error.details;
      else expect(r.status).toBe(200);
    }
    expect(limited).toEqual(expect.objectContaining({ address: clientIp }));
    // Other clients behind the same proxy are not limited with it.
    expect((await requestFrom("127.0.0.4", `${proxied()}/healthz`)).status).toBe(200);
  });
});

test("the node's log names each limited client's own address, one JSON line each", async () => {
  // Read once the node has stopped (its stderr is complete then).
  node.proc.kill("SIGTERM");
  await node.proc.exited;
  const lines = (await node.stderr()).split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
  const ips = lines.filter((l) => l.msg === "rate limited").map((l) => l.ip);
  expect(ips.sort()).toEqual(["127.0.0.3", "127.0.0.5"]);
});
