// Issue #12 point 5: JWT tenants and token tenants shared one namespace, so a JWT with
// sub=admin (or any token's tenant name) saw that tenant's jobs and outputs. JWT tenants are
// `jwt:<sub>` now, token tenants cannot contain ':', and migration 0006 moves old JWT rows.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createHmac } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS } from "../../migrations/index";
import { createToken } from "../../src/services/tokens";
import { dbPath, openDb } from "../../src/store/db";
import { migrate } from "../../src/store/migrate";
import { corpus } from "../helpers/corpus";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

const SECRET = "jwt-secret-for-namespace-tests-0123";
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
function jwt(sub: string): string {
  const head = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${head}.${createHmac("sha256", SECRET).update(head).digest("base64url")}`;
}
const as = (url: string, token: string, path: string, init: RequestInit = {}) => fetch(url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });

describe("on a node", () => {
  let t: TestNode;
  let siteA: string;
  beforeAll(async () => {
    t = await startTestNode({ MEDIANODE_JWT_SECRET: SECRET });
    const db = openDb(dbPath(t.dataDir));
    siteA = createToken(db, { name: "site-a", scopes: ["jobs:read", "jobs:write"] }, "test").token;
    db.close();
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  test("a JWT whose sub names a token tenant (site-a, admin) sees none of that tenant's jobs or outputs", async () => {
    const r = await as(t.url, siteA, "/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
    const { id } = (await r.json()) as { id: string };
    expect((await waitForJob({ api: (p, i) => as(t.url, siteA, p, i) }, id)).status).toBe("completed");
    const adminJob = (await (await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) })).json()) as { id: string };
    await waitForJob(t, adminJob.id);
    for (const [sub, victimJob] of [["site-a", id], ["admin", adminJob.id]] as const) {
      const token = jwt(sub);
      expect((await as(t.url, token, `/v1/jobs/${victimJob}`)).status).toBe(404);
      expect((await as(t.url, token, `/v1/jobs/${victimJob}/outputs/thumb.webp`)).status).toBe(404);
      const list = (await (await as(t.url, token, "/v1/jobs")).json()) as { items: unknown[] };
      expect(list.items).toEqual([]);
    }
    // The JWT's own job is its own, and the token tenant cannot see it either.
    const mine = (await (await as(t.url, jwt("site-a"), "/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) })).json()) as { id: string; };
    expect((await as(t.url, jwt("site-a"), `/v1/jobs/${mine.id}`)).status).toBe(200);
    expect((await as(t.url, siteA, `/v1/jobs/${mine.id}`)).status).toBe(404);
  });

  test("a token's tenant cannot be put in the JWT namespace", () => {
    const db = openDb(dbPath(t.dataDir));
    try {
      expect(() => createToken(db, { name: "sneaky", tenant: "jwt:site-a" }, "test")).toThrow(/no ':'/);
    } finally {
      db.close();
    }
  });
});

describe("migration 0006 on a database with old rows", () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  test("JWT-made jobs, webhooks and deliveries move to jwt:<sub>; token rows stay; the JWT still sees its old job", async () => {
    const dataDir = join(dir.path, "data");
    mkdirSync(dataDir, { recursive: true });
    // The schema as it was before 0006, with rows written the old way (tenant = sub).
    const db = new Database(dbPath(dataDir), { create: true, strict: true });
    db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    for (const m of MIGRATIONS.filter((m) => m.version < 6)) {
      db.exec(m.sql);
      db.query("INSERT INTO schema_migrations VALUES (?, ?, ?)").run(m.version, m.name, Date.now());
    }
    const now = Date.now();
    const job = (id: string, tenant: string, tokenId: string | null) =>
      db.query("INSERT INTO jobs (id, tenant, token_id, type, status, source, options, max_attempts, created_at, finished_at, updated_at) VALUES (?, ?, ?, 'probe', 'completed', '{\"kind\":\"url\",\"url\":\"http://x\"}', '{}', 1, ?, ?, ?)").run(id, tenant, tokenId, now, now, now);
    job("j_00000000000000000000000jwt", "site-a", "jwt:site-a");
    job("j_0000000000000000000000tokn", "site-a", "t_00000000000000000000000000");
    db.query("INSERT INTO webhooks (id, tenant, url, events, secret, created_at) VALUES ('w_jwt', 'site-a', 'http://x', '[]', 's', ?), ('w_tok', 'site-a', 'http://y', '[]', 's', ?)").run(now, now);
    db.query("INSERT INTO audit (at, actor, action, target) VALUES (?, 'jwt:site-a', 'webhook.create', 'w_jwt'), (?, 't_00000000000000000000000000', 'webhook.create', 'w_tok')").run(now, now);
    db.query("INSERT INTO deliveries (id, webhook_id, job_id, tenant, url, event_type, body, state, created_at) VALUES ('d1', 'w_jwt', 'j_0000000000000000000000tokn', 'site-a', 'http://x', 'job.completed', '{}', 'delivered', ?), ('d2', NULL, 'j_00000000000000000000000jwt', 'site-a', 'http://z', 'job.completed', '{}', 'delivered', ?), ('d3', 'w_tok', 'j_0000000000000000000000tokn', 'site-a', 'http://y', 'job.completed', '{}', 'delivered', ?)").run(now, now, now);
    db.close();

    const m = openDb(dbPath(dataDir));
    expect(migrate(m)).toContain(6);
    const tenants = (sql: string) => (m.query(sql).all() as { id: string; tenant: string }[]).map((r) => `${r.id}=${r.tenant}`);
    expect(tenants("SELECT id, tenant FROM jobs ORDER BY id")).toEqual(["j_00000000000000000000000jwt=jwt:site-a", "j_0000000000000000000000tokn=site-a"]);
    expect(tenants("SELECT id, tenant FROM webhooks ORDER BY id")).toEqual(["w_jwt=jwt:site-a", "w_tok=site-a"]);
    expect(tenants("SELECT id, tenant FROM deliveries ORDER BY id")).toEqual(["d1=jwt:site-a", "d2=jwt:site-a", "d3=site-a"]);
    m.close();

    const t = await startTestNode({ MEDIANODE_JWT_SECRET: SECRET, MEDIANODE_ROLES: "api" }, { dataDir });
    try {
      expect((await as(t.url, jwt("site-a"), "/v1/jobs/j_00000000000000000000000jwt")).status).toBe(200);
      expect((await as(t.url, jwt("site-a"), "/v1/jobs/j_0000000000000000000000tokn")).status).toBe(404);
    } finally {
      await t.stop();
    }
  });
});
