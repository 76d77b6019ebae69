import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { verifyJwt } from "../../src/api/jwt";
import { createToken, revokeTokenById } from "../../src/services/tokens";
import { openDb } from "../../src/store/db";
import { corpus } from "../helpers/corpus";
import { startTestNode, type TestNode } from "../helpers/server";
import { wsConnect, wsRefusal } from "../helpers/ws";

const SECRET = "jwt-secret-for-tests-0123456789";
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
function jwt(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: "HS256", typ: "JWT" }, secret = SECRET): string {
  const head = `${b64(header)}.${b64(claims)}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}
const now = () => Math.floor(Date.now() / 1000);

describe("JWT verification (pure)", () => {
  test.each([
    ["valid", jwt({ sub: "site-a", exp: now() + 60 }), "jwt:site-a"],
    ["alg none", `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "x", exp: now() + 60 })}.`, null],
    ["alg RS256 header with an HMAC signature", jwt({ sub: "x", exp: now() + 60 }, { alg: "RS256" }), null],
    ["alg HS512", jwt({ sub: "x", exp: now() + 60 }, { alg: "HS512" }), null],
    ["another secret", jwt({ sub: "x", exp: now() + 60 }, undefined, "wrong-secret-wrong-secret"), null],
    ["expired", jwt({ sub: "x", exp: now() - 3600 }), null],
    ["no exp", jwt({ sub: "x" }), null],
    ["not yet valid", jwt({ sub: "x", exp: now() + 7200, nbf: now() + 3600 }), null],
    ["no sub", jwt({ exp: now() + 60 }), null],
    ["only an admin scope asked", jwt({ sub: "x", exp: now() + 60, scope: "admin" }), null],
    ["tampered payload", (() => { const [h, , s] = jwt({ sub: "a", exp: now() + 60 }).split("."); return `${h}.${b64({ sub: "b", exp: now() + 60 })}.${s}`; })(), null],
  ])("%s", (_n, token, tenant) => {
    const p = verifyJwt(token, SECRET);
    expect(p?.tenant ?? null).toBe(tenant);
    if (p) expect(p.scopes).not.toContain("admin");
  });
});

describe("on a node", () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode({ MEDIANODE_JWT_SECRET: SECRET, MEDIANODE_CORS_ORIGINS: "https://app.example" });
  });
  afterAll(async () => {
    await t.stop();
  });
  const as = (token: string, path: string, init: RequestInit = {}) => fetch(t.url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });

  test("a JWT's subject is its tenant: it sees its own jobs only, over HTTP and the WebSocket", async () => {
    const a = jwt({ sub: "site-a", exp: now() + 600 });
    const b = jwt({ sub: "site-b", exp: now() + 600 });
    const r = await as(a, "/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
    expect(r.status).toBe(202);
    const job = (await r.json()) as { id: string };
    expect((await as(a, `/v1/jobs/${job.id}`)).status).toBe(200);
    expect((await as(b, `/v1/jobs/${job.id}`)).status).toBe(404);
    expect((await as(b, "/v1/audit")).status).toBe(403);
    const ws = await wsConnect(`${t.url.replace("http", "ws")}/v1/events?token=${a}&jobId=${job.id}`);
    expect((await ws.next(() => true)).jobId).toBe(job.id);
    ws.close();
    expect(await wsRefusal(`${t.url}/v1/events?token=${b}&jobId=${job.id}`)).toBe(404);
    expect(await wsRefusal(`${t.url}/v1/events?token=${jwt({ sub: "x", exp: now() - 999 })}`)).toBe(401);
  });

  test("an expired or unsigned JWT is 401", async () => {
    expect((await as(jwt({ sub: "a", exp: now() - 999 }), "/v1/jobs")).status).toBe(401);
    expect((await as(`${b64({ alg: "none" })}.${b64({ sub: "a", exp: now() + 60 })}.`, "/v1/jobs")).status).toBe(401);
  });

  test("revoking a token takes effect at once", async () => {
    const db = openDb(join(t.dataDir, "medianode.db"));
    const tok = createToken(db, { name: "shortlived", scopes: ["jobs:read"] }, "test");
    expect((await as(tok.token, "/v1/jobs")).status).toBe(200);
    revokeTokenById(db, tok.id, "test");
    db.close();
    expect((await as(tok.token, "/v1/jobs")).status).toBe(401);
  });

  test("CORS is closed except for configured origins; security headers on every response", async () => {
    const other = await fetch(t.url + "/healthz", { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    expect(other.headers.get("x-content-type-options")).toBe("nosniff");
    const ok = await fetch(t.url + "/healthz", { headers: { origin: "https://app.example" } });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const pre = await fetch(t.url + "/v1/jobs", { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST" } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-headers")).toContain("authorization");
    expect((await fetch(t.url + "/v1/jobs", { method: "OPTIONS", headers: { origin: "https://evil.example" } })).status).toBe(403);
  });
});

test("rate limits: per token and per IP, 429 with Retry-After", async () => {
  const t = await startTestNode({ MEDIANODE_RATE_LIMIT_PER_TOKEN: "5", MEDIANODE_RATE_LIMIT_PER_IP: "50" });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await t.api("/v1/jobs")).status);
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
    expect(statuses).toContain(429);
    const limited = await t.api("/v1/jobs");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
    // Per IP: even requests without a token are limited (bursts of 4 × 50).
    const anon: number[] = [];
    for (let i = 0; i < 260; i++) anon.push((await fetch(t.url + "/healthz")).status);
    expect(anon).toContain(429);
  } finally {
    await t.stop();
  }
});
