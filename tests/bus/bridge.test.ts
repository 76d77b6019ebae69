// SPEC §13 on real brokers, once per bus: real `serve` processes (api + worker) on a private
// Redis, connected to RabbitMQ / NATS JetStream through a TCP proxy the test can cut; the
// test's own clients talk to the broker directly, in a vhost (RabbitMQ) or under a prefix
// (NATS) of this file's, removed afterwards.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { amqpProbe, AMQP_PORT, natsProbe, NATS_PORT, startTcpProxy, until, type BusProbe, type TcpProxy } from "../helpers/bus";
import { createTokenCli, startServeProcess, type ServeProc } from "../helpers/cluster";
import { corpus, CORPUS_DIR } from "../helpers/corpus";
import { startTestRedis, type TestRedis } from "../helpers/redis";
import { tempDir } from "../helpers/tmp";

const SOURCE = corpus("audio-aac-adts.aac").path;
const rand = () => Math.random().toString(36).slice(2, 10);
const JWT_SECRET = "jwt-secret-for-the-bus-bridge-tests-0123";
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
function jwt(sub: string): string {
  const head = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${head}.${createHmac("sha256", JWT_SECRET).update(head).digest("base64url")}`;
}

interface JobView {
  id: string;
  status: string;
  metadata: Record<string, unknown> | null;
}

describe.each([
  ["amqp", amqpProbe, AMQP_PORT],
  ["nats", natsProbe, NATS_PORT],
] as const)("bus bridge over %s", (kind, makeProbe, brokerPort) => {
  let redis: TestRedis;
  let bus: BusProbe;
  let proxy: TcpProxy;
  let dir: ReturnType<typeof tempDir>;
  let node: ServeProc;
  let token = "";
  const dataDir = () => join(dir.path, "data");

  const startNode = (env: Record<string, string> = {}) =>
    startServeProcess({
      roles: "api,worker,monitor,metrics",
      redisUrl: redis.url,
      dataDir: dataDir(),
      env: {
        MEDIANODE_IMPORT_DIRS: CORPUS_DIR,
        MEDIANODE_BUS_URL: bus.nodeUrl(proxy.port),
        MEDIANODE_BUS_PREFIX: bus.prefix,
        MEDIANODE_BUS_ACK_WAIT_SEC: "3",
        MEDIANODE_JWT_SECRET: JWT_SECRET,
        MEDIANODE_LOG_LEVEL: "warn",
        ...env,
      },
    });
  const api = async (n: ServeProc, path: string, init: RequestInit = {}) => {
    const r = await fetch(n.url + path, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...init.headers } });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const readyz = async (n: ServeProc) => (await api(n, "/readyz")) as { status: number; body: { status: string; checks: Record<string, { ok: boolean; detail: string }> } };
  const busUp = async (n: ServeProc) => (await readyz(n)).body.checks.bus?.ok === true;
  const jobsWith = async (n: ServeProc, marker: string) => {
    const r = await api(n, "/v1/jobs?limit=500");
    return (r.body.items as JobView[]).filter((j) => j.metadata?.marker === marker);
  };
  const request = (marker: string) => JSON.stringify({ type: "probe", source: { path: SOURCE }, metadata: { marker } });
  const eventsOf = (jobId: string) => bus.events().filter((e) => e.body.jobId === jobId);

  beforeAll(async () => {
    redis = await startTestRedis();
    bus = await makeProbe();
    proxy = await startTcpProxy(brokerPort);
    dir = tempDir();
    node = await startNode();
    token = (await Bun.file(join(dataDir(), "admin.token")).text()).trim();
    await until("the bridge connected", () => busUp(node));
    await bus.ready();
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    await proxy?.stop();
    await bus?.remove();
    await redis?.stop();
    dir?.remove();
  }, 60_000);

  test("a job published on the bus completes; its events and media.ready are consumed; the reply is the job", async () => {
    const marker = rand();
    await bus.publishJob(request(marker), { token, messageId: `m-${marker}`, reply: true, correlationId: marker });
    const reply = await until("the reply", () => bus.replies().find((r) => r.correlationId === marker));
    const jobId = reply.body.id as string;
    expect(reply.body.type).toBe("probe");
    expect(reply.body.metadata).toEqual({ marker });
    await until("media.ready", () => eventsOf(jobId).some((e) => e.key === "media.ready"));
    const keys = eventsOf(jobId).map((e) => e.key);
    expect(keys).toContain("job.queued");
    expect(keys).toContain("job.active");
    expect(keys.filter((k) => k === "job.completed")).toHaveLength(1);
    expect(keys.filter((k) => k === "media.ready")).toHaveLength(1);
    const completed = eventsOf(jobId).find((e) => e.key === "job.completed")!.body;
    const ready = eventsOf(jobId).find((e) => e.key === "media.ready")!.body;
    expect(ready).toEqual(completed);
    expect(completed).toMatchObject({ type: "job.completed", jobId, status: "completed", tenant: "admin" });
    const job = await api(node, `/v1/jobs/${jobId}`);
    expect(job.body.status).toBe("completed");
    expect(await bus.backlog()).toBe(0);
  }, 60_000);

  test("a JWT caller's bus job is its tenant's: HTTP shows it to that tenant only, its events carry that tenant", async () => {
    const marker = rand();
    const acme = jwt(`acme-${marker}`);
    await bus.publishJob(request(marker), { token: acme, messageId: `jwt-${marker}`, reply: true, correlationId: `jwt-${marker}` });
    const reply = await until("the reply", () => bus.replies().find((r) => r.correlationId === `jwt-${marker}`));
    const jobId = reply.body.id as string;
    await until("media.ready", () => eventsOf(jobId).some((e) => e.key === "media.ready"));
    for (const e of eventsOf(jobId)) expect(e.body.tenant).toBe(`jwt:acme-${marker}`);
    const as = (t: string) => fetch(`${node.url}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${t}` } }).then((r) => r.status);
    expect(await as(acme)).toBe(200);
    expect(await as(jwt(`other-${marker}`))).toBe(404);
  }, 60_000);

  test("the same message id twice makes one job", async () => {
    const marker = rand();
    await bus.publishJob(request(marker), { token, messageId: `dup-${marker}`, reply: true, correlationId: `${marker}-1` });
    await bus.publishJob(request(marker), { token, messageId: `dup-${marker}`, reply: true, correlationId: `${marker}-2` });
    const first = await until("the first reply", () => bus.replies().find((r) => r.correlationId === `${marker}-1`));
    // JetStream drops the second publish itself (same Nats-Msg-Id in its duplicate window);
    // RabbitMQ delivers it, and the intake answers with the first job.
    if (kind === "amqp") {
      const second = await until("the second reply", () => bus.replies().find((r) => r.correlationId === `${marker}-2`));
      expect(second.body.id).toBe(first.body.id);
    }
    await until("the job completed", async () => (await jobsWith(node, marker)).every((j) => j.status === "completed"));
    await until("both messages settled", async () => (await bus.backlog()) === 0);
    expect((await jobsWith(node, marker)).map((j) => j.id)).toEqual([first.body.id as string]);
  }, 60_000);

  test("bad JSON, a refused token and a token without jobs:write are dead-lettered with their error", async () => {
    const readOnly = await createTokenCli(dataDir(), `ro-${rand()}`, "jobs:read");
    const marker = rand();
    await bus.publishJob("{not json", { token, messageId: `bad-${marker}`, reply: true, correlationId: `bad-${marker}` });
    await bus.publishJob(request(marker), { token: "mn_not-a-real-token", messageId: `tok-${marker}` });
    await bus.publishJob(request(marker), { messageId: `none-${marker}` });
    await bus.publishJob(request(marker), { token: readOnly, messageId: `ro-${marker}` });
    await bus.publishJob(JSON.stringify({ type: "probe", source: { path: SOURCE }, options: { nope: 1 } }), { token, messageId: `opt-${marker}` });
    const byId = async () => {
      const seen = new Map(bus.rejected().map((r) => [r.messageId, r]));
      return ["bad", "tok", "none", "ro", "opt"].every((p) => seen.has(`${p}-${marker}`)) ? seen : null;
    };
    const seen = await until("five rejections", byId);
    expect(seen.get(`bad-${marker}`)!.error.code).toBe("BAD_REQUEST");
    expect(seen.get(`bad-${marker}`)!.error.message).toContain("not JSON");
    expect(seen.get(`tok-${marker}`)!.error.code).toBe("UNAUTHORIZED");
    expect(seen.get(`none-${marker}`)!.error.code).toBe("UNAUTHORIZED");
    expect(seen.get(`ro-${marker}`)!.error.code).toBe("FORBIDDEN");
    expect(seen.get(`opt-${marker}`)!.error.code).toBe("INVALID_OPTIONS");
    // The caller's credential is not kept with the dead letter.
    for (const r of seen.values()) expect(JSON.stringify(r.headers)).not.toContain(token);
    expect(JSON.stringify(seen.get(`tok-${marker}`)!.headers)).not.toContain("mn_not-a-real-token");
    const reply = await until("the error reply", () => bus.replies().find((r) => r.correlationId === `bad-${marker}`));
    expect((reply.body.error as { code: string }).code).toBe("BAD_REQUEST");
    // Settled, not retried: nothing waits, and no job was made.
    await until("the rejected messages settled", async () => (await bus.backlog()) === 0);
    expect(await jobsWith(node, marker)).toEqual([]);
  }, 60_000);

  test("serve SIGKILLed after recording a bus job and before acking it: the redelivery makes no second job", async () => {
    await node.stop();
    // This node holds each ack 8 s after the job is recorded: the window the kill lands in.
    const victim = await startNode({ MEDIANODE_BUS_ACK_DELAY_MS: "8000" });
    await until("the victim's bridge connected", () => busUp(victim));
    const marker = rand();
    await bus.publishJob(request(marker), { token, messageId: `crash-${marker}`, reply: true, correlationId: `crash-${marker}` });
    await until("the job recorded", async () => (await jobsWith(victim, marker)).length === 1);
    victim.proc.kill("SIGKILL");
    await victim.proc.exited;
    expect(bus.replies().some((r) => r.correlationId === `crash-${marker}`)).toBe(false);
    node = await startNode();
    // The broker hands the unacknowledged message to the new node (AMQP: the connection
    // ended; NATS: ack_wait passed); it answers with the job the first node recorded.
    const reply = await until("the redelivery's reply", () => bus.replies().find((r) => r.correlationId === `crash-${marker}`), 45_000);
    await until("the job completed", async () => (await jobsWith(node, marker))[0]?.status === "completed", 45_000);
    const jobs = await jobsWith(node, marker);
    expect(jobs.map((j) => j.id)).toEqual([reply.body.id as string]);
    await until("the message settled", async () => (await bus.backlog()) === 0);
    expect(bus.rejected().some((r) => r.messageId === `crash-${marker}`)).toBe(false);
  }, 120_000);

  test("Redis down: bus jobs wait on the bus (requeued, not dead-lettered, not dropped) and are made once it is back", async () => {
    redis.kill();
    const marker = rand();
    await bus.publishJob(request(marker), { token, messageId: `redis-${marker}`, reply: true, correlationId: `redis-${marker}` });
    // Several requeue rounds pass (1 s each) with nothing settled for good.
    await Bun.sleep(3500);
    expect(bus.rejected().some((r) => r.messageId === `redis-${marker}`)).toBe(false);
    expect(bus.replies().some((r) => r.correlationId === `redis-${marker}`)).toBe(false);
    await redis.restart();
    const reply = await until("the job once Redis is back", () => bus.replies().find((r) => r.correlationId === `redis-${marker}`), 45_000);
    await until("it completed", async () => (await api(node, `/v1/jobs/${reply.body.id as string}`)).body.status === "completed", 45_000);
    expect((await jobsWith(node, marker)).map((j) => j.id)).toEqual([reply.body.id as string]);
  }, 120_000);

  test("the bus connection cut mid-stream: HTTP carries on, /readyz says so, events resume", async () => {
    proxy.cut();
    const down = await until("/readyz to see the bus down", async () => {
      const r = await readyz(node);
      return r.body.checks.bus?.ok === false ? r : null;
    });
    // Reported, not counted: the node stays ready for HTTP.
    expect(down.status).toBe(200);
    expect(down.body.checks.bus!.detail).toContain("unreachable");
    const marker = rand();
    const submitted = await api(node, "/v1/jobs", { method: "POST", body: request(marker) });
    expect(submitted.status).toBe(202);
    const httpJob = submitted.body.id as string;
    await until("the HTTP job completed while the bus was down", async () => (await api(node, `/v1/jobs/${httpJob}`)).body.status === "completed");
    expect(eventsOf(httpJob)).toEqual([]);
    proxy.resume();
    await until("the bridge reconnected", () => busUp(node), 60_000);
    // What happened while the bus was down is published once it is back, once.
    await until("the outage's events", () => eventsOf(httpJob).some((e) => e.key === "media.ready"), 30_000);
    expect(eventsOf(httpJob).filter((e) => e.key === "job.completed")).toHaveLength(1);
    // And the intake takes jobs again.
    const after = rand();
    await bus.publishJob(request(after), { token, messageId: `after-${after}`, reply: true, correlationId: after });
    const reply = await until("a reply after the outage", () => bus.replies().find((r) => r.correlationId === after), 30_000);
    await until("its media.ready", () => eventsOf(reply.body.id as string).some((e) => e.key === "media.ready"), 30_000);
  }, 150_000);
});
