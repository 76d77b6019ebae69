// Nothing is sent twice when a node restarts mid-delivery (issue #18): a real `medianode serve`
// is SIGKILLed while its SMTP send is on the wire (the test's SMTP server has read the message
// and holds its reply). After the restart, the delivery is logged as interrupted and not resent;
// a mail delivered before the kill is not resent either, and the next job is mailed once. And a
// delivery left pending with no queue entry (lost between its row and the queue) is sent once.
// A webhook cut off the same way is sent again: its receiver can dedupe the same event, and a
// lost webhook is what "no job ever lost" rules out.
import { afterAll, expect, test } from "bun:test";
import { spawnNode, type NodeProcess } from "../helpers/processes";
import { startTestRedis } from "../helpers/redis";
import { corpus } from "../helpers/corpus";
import { header, startTestSmtp } from "../helpers/smtp";
import { tempDir } from "../helpers/tmp";
import { join } from "node:path";
import { openDb } from "../../src/store/sqlite/db";
import { sqliteRecords } from "../../src/store/sqlite/index";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";

const spawned: NodeProcess[] = [];
afterAll(async () => {
  for (const p of spawned) if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
  await Promise.all(spawned.map((p) => p.proc.exited));
});

/** A real `medianode serve` on `dataDir`, and fetch with its admin token. */
async function startServe(dataDir: string, env: Record<string, string>) {
  const p = await spawnNode(["serve", "--data-dir", dataDir], env);
  spawned.push(p);
  const url = /serving on (\S+)/.exec(p.banner)![1]!;
  const token = (await Bun.file(join(dataDir, "admin.token")).text()).trim();
  const api = (path: string, init: RequestInit = {}) => fetch(url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
  return { p, api };
}

const until = async (what: string, cond: () => boolean | Promise<boolean>, ms = 30_000) => {
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(50)) if (await cond()) return;
  throw new Error(`timed out waiting for ${what}`);
};

test("a serve SIGKILLed mid-send does not mail twice after its restart", async () => {
  const redis = await startTestRedis();
  const data = tempDir();
  // The 2nd message is read and never answered: the node dies while waiting for the 250.
  const smtp = await startTestSmtp((n) => (n === 2 ? "hang" : 250));
  const env = { REDIS_URL: redis.url, MEDIANODE_SMTP_URL: smtp.url, MEDIANODE_MAIL_FROM: "media@example.test", MEDIANODE_LOCK_SEC: "2", MEDIANODE_WEBHOOK_BACKOFF_MS: "50" };
  const start = () => startServe(data.path, env);
  const submit = async (api: (p: string, i?: RequestInit) => Promise<Response>) => {
    const r = await api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
    expect(r.status).toBe(202);
    return ((await r.json()) as { id: string }).id;
  };
  const subjectsFor = (id: string) => smtp.mails.filter((m) => header(m.raw, "Subject")?.includes(id)).length;
  try {
    const a = await start();
    const sub = (await (await a.api("/v1/notifications", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ channel: "email", to: "owner@example.test" }) })).json()) as { id: string };
    const log = async (api: typeof a.api) => ((await (await api(`/v1/notifications/${sub.id}/deliveries`)).json()) as { items: { jobId: string; state: string; attempts: { error: string | null }[] }[] }).items;

    const first = await submit(a.api);
    await until("the first mail delivered", async () => (await log(a.api)).some((d) => d.jobId === first && d.state === "delivered"));
    const second = await submit(a.api);
    await until("the second mail on the wire", () => smtp.mails.length === 2);
    a.p.proc.kill("SIGKILL");
    await a.p.proc.exited;

    const b = await start();
    // The dead node's delivery comes back once its lock (2 s) expires: logged, not resent.
    await until("the interrupted delivery logged", async () => (await log(b.api)).some((d) => d.jobId === second && d.state === "failed"));
    const interrupted = (await log(b.api)).find((d) => d.jobId === second)!;
    expect(interrupted.attempts.at(-1)!.error).toContain("interrupted");
    const third = await submit(b.api);
    await until("the third mail delivered", async () => (await log(b.api)).some((d) => d.jobId === third && d.state === "delivered"));
    await Bun.sleep(1500);
    expect([subjectsFor(first), subjectsFor(second), subjectsFor(third)]).toEqual([1, 1, 1]);
    expect(smtp.mails).toHaveLength(3);
    const metrics = await (await fetch(/serving on (\S+)/.exec(b.p.banner)![1]! + "/metrics")).text();
    expect(metrics).toMatch(/medianode_notifications_total\{channel="email",status="interrupted"\} 1/);
    b.p.proc.kill("SIGTERM");
    await b.p.proc.exited;
  } finally {
    await smtp.stop();
    await redis.stop();
    data.remove();
  }
});

test("a delivery whose queue entry was lost (node died before queuing it, or Redis lost it) is sent after a restart, once", async () => {
  const data = tempDir();
  const smtp = await startTestSmtp();
  const env = { MEDIANODE_SMTP_URL: smtp.url, MEDIANODE_MAIL_FROM: "media@example.test", MEDIANODE_WEBHOOK_BACKOFF_MS: "50" };
  // Each node is stopped once; one still running when a check fails is stopped in finally.
  const running = new Set<TestNode>();
  const start = async () => {
    const n = await startTestNode(env, { dataDir: data.path });
    running.add(n);
    return n;
  };
  const stop = async (n: TestNode) => {
    running.delete(n);
    await n.stop();
  };
  try {
    const a = await start();
    const sub = (await (await a.api("/v1/notifications", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ channel: "email", to: "owner@example.test" }) })).json()) as { id: string };
    const r = await a.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
    const jobId = ((await r.json()) as { id: string }).id;
    await waitForJob(a, jobId);
    await until("the first mail", () => smtp.accepted().length === 1);
    await stop(a); // its Redis goes with it: the next start has an empty queue

    // What a node killed between writing a delivery and queuing it leaves behind: a pending row.
    const records = sqliteRecords(openDb(join(data.path, "medianode.db")));
    const row = (await records.deliveries.list(sub.id, 1))[0]!;
    expect(row.state).toBe("delivered");
    expect(await records.deliveries.insert({ ...row, id: "d_lostqueueentry", dedupe_key: `${row.dedupe_key} lost`, created_at: Date.now() })).toBe(true);
    await records.close();

    const b = await start();
    await until("the pending delivery sent", () => smtp.accepted().length === 2);
    expect(header(smtp.accepted()[1]!.raw, "Message-ID")).toBe(`<d_lostqueueentry.${jobId}@example.test>`);
    const log = ((await (await b.api(`/v1/notifications/${sub.id}/deliveries`)).json()) as { items: { id: string; state: string; attempts: unknown[] }[] }).items;
    expect(log.find((d) => d.id === "d_lostqueueentry")).toMatchObject({ state: "delivered", attempts: [{ status: 250 }] });
    await stop(b);

    // Delivered rows are not queued again by the next start.
    const c = await start();
    await Bun.sleep(1000);
    expect(smtp.accepted()).toHaveLength(2);
    await stop(c);
  } finally {
    for (const n of running) await n.stop();
    await smtp.stop();
    data.remove();
  }
});

test("a webhook SIGKILLed mid-send is sent again after the restart (at least once: the same event, which the receiver can dedupe)", async () => {
  const redis = await startTestRedis();
  const data = tempDir();
  // The receiver reads the first request and never answers it: the node dies while waiting.
  const bodies: string[] = [];
  const receiver = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      bodies.push(await req.text());
      if (bodies.length === 1) await new Promise(() => {});
      return new Response("ok");
    },
  });
  const env = { REDIS_URL: redis.url, MEDIANODE_LOCK_SEC: "2", MEDIANODE_WEBHOOK_BACKOFF_MS: "50", MEDIANODE_URL_ALLOWLIST: "127.0.0.1" };
  const start = () => startServe(data.path, env);
  try {
    const a = await start();
    const created = await a.api("/v1/webhooks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url: `${receiver.url}hook`, events: ["job.completed"] }) });
    expect(created.status).toBe(201);
    const hook = (await created.json()) as { id: string };
    const r = await a.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
    const jobId = ((await r.json()) as { id: string }).id;
    await until("the webhook on the wire", () => bodies.length === 1);
    a.p.proc.kill("SIGKILL");
    await a.p.proc.exited;

    const b = await start();
    await until("the webhook sent again", () => bodies.length === 2);
    expect(bodies[1]).toBe(bodies[0]!);
    expect(JSON.parse(bodies[1]!)).toMatchObject({ type: "job.completed", jobId });
    type Log = { items: { state: string; attempts: { error: string | null }[] }[] };
    const deliveries = async () => ((await (await b.api(`/v1/webhooks/${hook.id}/deliveries`)).json()) as Log).items;
    await until("the delivery logged as delivered", async () => (await deliveries())[0]?.state === "delivered");
    const final = (await deliveries())[0]!;
    expect(final.attempts[0]!.error).toContain("interrupted");
    expect(final.attempts.at(-1)!.error).toBeNull();
    await Bun.sleep(1000);
    expect(bodies).toHaveLength(2);
    b.p.proc.kill("SIGTERM");
    await b.p.proc.exited;
  } finally {
    receiver.stop(true);
    await redis.stop();
    data.remove();
  }
});
