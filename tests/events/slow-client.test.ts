import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestNode, type TestNode } from "../helpers/server";
import { wsConnect } from "../helpers/ws";

let t: TestNode;
beforeAll(async () => {
  // api only: jobs just queue; a 16 KiB bound so a few hundred events overflow it.
  t = await startTestNode({ MEDIANODE_ROLES: "api,monitor,metrics", MEDIANODE_WS_BUFFER_BYTES: "16KiB", MEDIANODE_URL_ALLOWLIST: "127.0.0.1" });
});
afterAll(async () => {
  await t.stop();
});

const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)`, "m").exec(await (await fetch(t.url + "/metrics")).text())?.[1] ?? 0);

test("a client that stops reading is dropped and counted; fast clients and the API are not slowed", async () => {
  const port = new URL(t.url).port;
  // A socket with a tiny receive window that completes the handshake and then never reads.
  const slow = Bun.spawn(["python3", "-c", `
import socket, time, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
s.connect(("127.0.0.1", ${port}))
s.sendall(b"GET /v1/events?token=${t.token} HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n")
print(s.recv(200).split(b"\\r\\n")[0].decode(), flush=True)
time.sleep(60)
`], { stdout: "pipe" });
  const reader = slow.stdout.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  expect(first).toContain("101");
  const fast = await wsConnect(`${t.url.replace("http", "ws")}/v1/events?token=${t.token}`);
  const droppedBefore = await metric("medianode_ws_dropped_total");

  // 100 × 200 queued jobs: ~5 MB of job.queued events, beyond what the kernel buffers on loopback.
  const item = { type: "probe", source: { url: "http://127.0.0.1:9/x.mp4" } };
  const started = performance.now();
  for (let i = 0; i < 100; i++) {
    const r = await t.api("/v1/jobs/batch", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(Array.from({ length: 200 }, () => item)) });
    expect(r.status).toBe(202);
  }
  const submitMs = performance.now() - started;
  await fast.next(() => fast.messages.filter((m) => m.type === "job.queued").length >= 20000, 90_000);
  for (let i = 0; i < 100 && (await metric("medianode_ws_dropped_total")) === droppedBefore; i++) await Bun.sleep(50);
  expect(await metric("medianode_ws_dropped_total")).toBe(droppedBefore + 1);
  expect(await metric("medianode_ws_clients")).toBe(1);
  expect(fast.messages.filter((m) => m.type === "job.queued").length).toBe(20000);
  expect(submitMs).toBeLessThan(30_000);
  fast.close();
  slow.kill();
});
