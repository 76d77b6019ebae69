// SPEC §8: serve SIGKILLed during a batch of 500 jobs (embedded Redis, AOF): after a restart
// with the same data dir, every job that got a 202 ends completed, one record each, and its
// outputs are served whole.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { corpus, CORPUS_DIR } from "../helpers/corpus";
import { freePort } from "../helpers/redis";
import { tempDir } from "../helpers/tmp";

const MAIN = join(import.meta.dir, "../../cli/main.ts");

function serve(dataDir: string, port: number) {
  return Bun.spawn([process.execPath, MAIN, "serve", "--port", String(port), "--data-dir", dataDir], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      MEDIANODE_IMPORT_DIRS: CORPUS_DIR,
      MEDIANODE_LOG_LEVEL: "error",
      MEDIANODE_CONCURRENCY: "image=2",
      MEDIANODE_CONFIG: "/nonexistent",
      MEDIANODE_RATE_LIMIT_PER_TOKEN: "0",
      MEDIANODE_RATE_LIMIT_PER_IP: "0",
    },
    stdout: "ignore",
    stderr: "inherit",
  });
}

async function waitUp(url: string) {
  for (let i = 0; i < 200; i++) {
    if ((await fetch(url + "/readyz").catch(() => null))?.status === 200) return;
    await Bun.sleep(100);
  }
  throw new Error("serve did not become ready");
}

test("serve SIGKILLed mid-batch: after restart all 500 accepted jobs complete, once each", async () => {
  const dir = tempDir();
  const dataDir = join(dir.path, "data");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let proc = serve(dataDir, port);
  try {
    await waitUp(url);
    const token = (await Bun.file(join(dataDir, "admin.token")).text()).trim();
    const api = (path: string, init: RequestInit = {}) => fetch(url + path, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });
    const item = { type: "image", source: { path: corpus("image-png-palette.png").path }, options: { variants: [{ name: "t", size: 32 }] } };
    const ids: string[] = [];
    for (let b = 0; b < 5; b++) {
      const r = await api("/v1/jobs/batch", { method: "POST", body: JSON.stringify(Array.from({ length: 100 }, () => item)) });
      expect(r.status).toBe(202);
      ids.push(...((await r.json()) as { items: { id: string }[] }).items.map((j) => j.id));
    }
    // Let some complete, then kill everything hard mid-stream.
    let doneAtKill = 0;
    for (let i = 0; i < 100; i++) {
      doneAtKill = ((await (await api("/v1/jobs?status=completed&limit=500")).json()) as { items: unknown[] }).items.length;
      if (doneAtKill >= 50) break;
      await Bun.sleep(50);
    }
    proc.kill("SIGKILL");
    // The kill lands mid-batch: most jobs were still open.
    expect(doneAtKill).toBeLessThan(400);
    await proc.exited;
    await Bun.sleep(500);

    proc = serve(dataDir, port);
    await waitUp(url);
    const statuses = new Map<string, string>();
    for (let i = 0; i < 600; i++) {
      const seen: { id: string; status: string }[] = [];
      let cursor: string | null = null;
      do {
        const page = (await (await api(`/v1/jobs?limit=500${cursor ? `&cursor=${cursor}` : ""}`)).json()) as { items: { id: string; status: string }[]; nextCursor: string | null };
        seen.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      statuses.clear();
      for (const j of seen) statuses.set(j.id, j.status);
      // One record per job: the list has no duplicates.
      expect(seen.length).toBe(statuses.size);
      if (ids.every((id) => statuses.get(id) === "completed")) break;
      await Bun.sleep(200);
    }
    expect(ids.filter((id) => statuses.get(id) !== "completed")).toEqual([]);
    expect(statuses.size).toBe(500);
    for (const id of ids.slice(0, 500).filter((_, i) => i % 50 === 0)) {
      const out = await fetch(`${url}/v1/jobs/${id}/outputs/t.webp`, { headers: { authorization: `Bearer ${token}` } });
      expect(out.status).toBe(200);
      const bytes = new Uint8Array(await out.arrayBuffer());
      expect(Buffer.from(bytes.subarray(8, 12)).toString("latin1")).toBe("WEBP");
    }
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    dir.remove();
  }
}, 180_000);
