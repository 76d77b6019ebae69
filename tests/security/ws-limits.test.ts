// Issue #12 point 6: a revoked token or an expired JWT kept its open event stream and could
// still subscribe, and a client could make thousands of job reads with a burst of subscribe
// messages. Open streams re-check their credential (closed with 4401) and client messages are
// rate-limited per connection (closed with 1008), with bounded ids per message and per socket.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { createToken, revokeTokenById } from "../../src/services/tokens";
import { dbPath, openDb } from "../../src/store/db";
import { startTestNode, type TestNode } from "../helpers/server";

const SECRET = "jwt-secret-for-ws-limit-tests-0123";
let t: TestNode;
beforeAll(async () => {
  t = await startTestNode({ MEDIANODE_ROLES: "api,monitor", MEDIANODE_JWT_SECRET: SECRET });
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

interface Sock {
  ws: WebSocket;
  received: unknown[];
  closed: Promise<{ code: number; reason: string }>;
}
async function open(token: string): Promise<Sock> {
  const ws = new WebSocket(`${t.url.replace("http", "ws")}/v1/events?token=${encodeURIComponent(token)}`);
  const received: unknown[] = [];
  ws.onmessage = (e) => received.push(JSON.parse(String(e.data)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (ws.onclose = (e) => resolve({ code: e.code, reason: e.reason })));
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("WebSocket failed to open"));
  });
  return { ws, received, closed };
}
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, Bun.sleep(ms).then(() => "still open" as const)]);

test("revoking a token closes its open stream with 4401", async () => {
  const db = openDb(dbPath(t.dataDir));
  const tok = createToken(db, { name: "soon-revoked", scopes: ["jobs:read"] }, "test");
  const s = await open(tok.token);
  revokeTokenById(db, tok.id, "test");
  db.close();
  expect(await within(s.closed, 5000)).toEqual({ code: 4401, reason: "token revoked" });
});

test("a JWT's stream is closed with 4401 when the JWT expires", async () => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  // exp is 28 s ago: still inside the 30 s leeway for about two more seconds.
  const head = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: "site-x", exp: Math.floor(Date.now() / 1000) - 28 })}`;
  const jwt = `${head}.${createHmac("sha256", SECRET).update(head).digest("base64url")}`;
  const s = await open(jwt);
  expect(await within(s.closed, 8000)).toEqual({ code: 4401, reason: "token expired" });
});

test("a flood of subscribe messages is cut off (1008); over-long id lists are refused", async () => {
  const s = await open(t.token);
  s.ws.send(JSON.stringify({ subscribe: Array.from({ length: 100 }, (_, i) => `job:j_${String(i).padStart(26, "0")}`) }));
  for (let i = 0; i < 200; i++) s.ws.send(JSON.stringify({ subscribe: Array.from({ length: 20 }, (_, k) => `job:j_${String(i * 20 + k).padStart(26, "0")}`) }));
  const closed = await within(s.closed, 5000);
  expect(closed).toMatchObject({ code: 1008 });
  // The first message (100 ids) was refused for its size, not served.
  expect(JSON.stringify(s.received[0])).toContain("1 to 20 ids");
  // Far fewer answers than 200 messages × 20 ids: the rest were never read.
  expect(s.received.length).toBeLessThan(200 * 20);
  // The node is still fine for everyone else.
  expect((await t.api("/healthz")).status).toBe(200);
});
