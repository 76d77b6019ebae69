// Issue #12 point 1: a worker token could replace any tenant's published outputs by uploading
// and committing an attempt for a job that had already completed (or for a run that had not
// begun). Commits are accepted only from the holder of the active run's BullMQ lock; anything
// else is 409 and the job's out/ is left exactly as it was.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createToken } from "../../src/services/tokens";
import { LOCK_HEADER, SHA256_HEADER } from "../../src/storage/worker-protocol";
import { dbPath, openDb } from "../../src/store/db";
import { corpus } from "../helpers/corpus";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";

let t: TestNode;
let workerToken: string;
let ownerToken: string;
beforeAll(async () => {
  t = await startTestNode();
  const db = openDb(dbPath(t.dataDir));
  workerToken = createToken(db, { name: "rogue-worker", scopes: ["worker"] }, "test").token;
  ownerToken = createToken(db, { name: "owner", scopes: ["jobs:read", "jobs:write"] }, "test").token;
  db.close();
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

const sha256 = (b: string) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const as = (token: string, path: string, init: RequestInit = {}) => fetch(t.url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });

test("PUT + commit for a completed job, a future run or with a made-up lock is 409; the owner still gets the old bytes", async () => {
  const r = await as(ownerToken, "/v1/jobs?type=image", { method: "POST", headers: { "content-type": "image/jpeg" }, body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
  expect(r.status).toBe(202);
  const { id } = (await r.json()) as { id: string };
  const job = await waitForJob(t, id);
  expect(job.status).toBe("completed");
  const before = new Uint8Array(await (await as(ownerToken, `/v1/jobs/${id}/outputs/thumb.webp`)).arrayBuffer());
  expect(before.length).toBeGreaterThan(0);

  const evil = "not the owner's thumbnail";
  for (const [attempt, lock] of [["1-1-0badc0de", null], ["1-9-0badc0de", "forged-lock-token"], ["2-1-0badc0de", null], ["7-1-0badc0de", "x"]] as const) {
    const lockHeader: Record<string, string> = lock ? { [LOCK_HEADER]: lock } : {};
    const put = await as(workerToken, `/v1/worker/jobs/${id}/attempts/${attempt}/outputs/thumb.webp`, { method: "PUT", headers: { [SHA256_HEADER]: sha256(evil), ...lockHeader }, body: evil });
    expect({ attempt, status: put.status }).toEqual({ attempt, status: 409 });
    const commit = await as(workerToken, `/v1/worker/jobs/${id}/attempts/${attempt}/commit`, {
      method: "POST",
      headers: { "content-type": "application/json", ...lockHeader },
      body: JSON.stringify({ files: [{ name: "thumb.webp", bytes: evil.length }] }),
    });
    expect({ attempt, status: commit.status }).toEqual({ attempt, status: 409 });
    expect(((await commit.json()) as { error: { code: string } }).error.code).toBe("CONFLICT");
  }
  const after = new Uint8Array(await (await as(ownerToken, `/v1/jobs/${id}/outputs/thumb.webp`)).arrayBuffer());
  expect(Buffer.from(after).equals(Buffer.from(before))).toBe(true);
  expect(existsSync(join(t.dataDir, "media", id, "out", "preview.webp"))).toBe(true);
  expect((await as(ownerToken, `/v1/jobs/${id}/outputs/preview.webp`)).status).toBe(200);
  expect(((await (await as(ownerToken, `/v1/jobs/${id}`)).json()) as { status: string }).status).toBe("completed");
});
