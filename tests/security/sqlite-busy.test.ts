// Issue #12 point 9: with another process holding SQLite's write lock, /healthz took 4.7 s (a
// synchronous busy wait froze the process) and POST answered 500 INTERNAL "database is
// locked"; a full disk under the database was 500 INTERNAL too. Now the process stays
// responsive, a write answers 503 with Retry-After, and SQLITE_FULL is 507 STORAGE.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dbPath } from "../../src/store/db";
import { startTestNode, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

const HOLDER = new URL("./fixtures/hold-sqlite-lock.ts", import.meta.url).pathname;
const probeJob = JSON.stringify({ type: "probe", source: { url: "http://127.0.0.1:9/x.mp4" } });

describe("another process holds the write lock", () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode({ MEDIANODE_ROLES: "api", MEDIANODE_URL_ALLOWLIST: "127.0.0.1" });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  test("healthz answers while a POST waits; the POST is 503 with Retry-After; after the lock, 202", async () => {
    const holder = Bun.spawn([process.execPath, HOLDER, dbPath(t.dataDir)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    try {
      const reader = (holder.stdout as ReadableStream<Uint8Array>).getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("locked");
      const order: string[] = [];
      const post = t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: probeJob }).then((r) => (order.push("post"), r));
      // Let the POST reach the database first: a frozen process would answer healthz only after it.
      await Bun.sleep(150);
      const health = fetch(`${t.url}/healthz`).then((r) => (order.push("healthz"), r));
      const [p, h] = await Promise.all([post, health]);
      expect(h.status).toBe(200);
      expect(order).toEqual(["healthz", "post"]);
      expect(p.status).toBe(503);
      expect(p.headers.get("retry-after")).toBe("1");
      const e = ((await p.json()) as { error: { code: string; message: string } }).error;
      expect(e.code).toBe("UNAVAILABLE");
      expect(e.message).toContain("database is busy");
      // Reads go on (WAL): listing jobs works during the lock.
      expect((await t.api("/v1/jobs")).status).toBe(200);
    } finally {
      holder.stdin.end();
      await holder.exited;
    }
    const ok = await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: probeJob });
    expect(ok.status).toBe(202);
  }, 30_000);
});

// SQLITE_FULL needs a small filesystem: a 20 MiB tmpfs, as tests/e2e/disk-full.test.ts does.
const dir = tempDir();
const data = join(dir.path, "data");
function tryMount(): string | null {
  mkdirSync(data, { recursive: true });
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", data], { stderr: "pipe" });
  return r.exitCode === 0 ? null : `mount -t tmpfs is not permitted here (${r.stderr.toString().trim() || `exit ${r.exitCode}`}); run as root or with CAP_SYS_ADMIN`;
}
const cannotMount = tryMount();
if (cannotMount) console.warn(`SQLITE_FULL test skipped: ${cannotMount}`);

describe("the database's disk is full", () => {
  let t: TestNode;
  beforeAll(async () => {
    if (cannotMount) return;
    t = await startTestNode({ MEDIANODE_ROLES: "api", MEDIANODE_URL_ALLOWLIST: "127.0.0.1", MEDIANODE_MIN_FREE_BYTES: "0" }, { dataDir: data });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    if (!cannotMount) Bun.spawnSync(["umount", "-l", data]);
    dir.remove();
  });

  test.skipIf(cannotMount !== null)(`a write on a full disk is 507 STORAGE, not 500${cannotMount ? ` (skipped: ${cannotMount})` : ""}`, async () => {
    const s = statfsSync(data);
    writeFileSync(join(data, "filler"), Buffer.alloc(s.bavail * s.bsize));
    let r: Response | null = null;
    // WAL pages already allocated absorb a few rows; keep writing until the disk says no.
    for (let i = 0; i < 200; i++) {
      r = await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "probe", source: { url: "http://127.0.0.1:9/x.mp4" }, metadata: { pad: "x".repeat(8000) } }) });
      if (r.status !== 202) break;
    }
    expect(r!.status).toBe(507);
    expect(((await r!.json()) as { error: { code: string } }).error.code).toBe("STORAGE");
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  }, 60_000);
});
