// The benchmarks' counting TCP proxy (bench/lib/byte-proxy.ts): bytes pass through intact in
// both directions, also when the reader is slower than the writer, and are counted exactly; an HTTP request
// and a WebSocket work through it.
import { afterEach, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { startByteProxy, type ByteProxy } from "../../bench/lib/byte-proxy";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function proxyTo(port: number): ByteProxy {
  const p = startByteProxy(`http://127.0.0.1:${port}`);
  cleanup.push(() => p.stop());
  return p;
}

describe("byte proxy", () => {
  test("raw TCP: 6 MiB up and 4 MiB down arrive intact and are counted to the byte", async () => {
    const up = randomBytes(6 * 2 ** 20);
    const down = randomBytes(4 * 2 ** 20);
    let received = 0;
    const got = createHash("sha256");
    // The target answers with `down` once it has all of `up`, then ends the connection.
    const server = Bun.listen<{ queue: Uint8Array[] }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(s) {
          s.data = { queue: [] };
        },
        data(s, chunk) {
          received += chunk.length;
          got.update(chunk);
          if (received === up.length) {
            s.data.queue.push(down);
            s.data.queue.length && flushServer(s);
          }
        },
        drain: (s) => flushServer(s),
      },
    });
    cleanup.push(() => server.stop(true));
    function flushServer(s: import("bun").Socket<{ queue: Uint8Array[] }>) {
      while (s.data.queue.length) {
        const c = s.data.queue[0]!;
        const n = s.write(c);
        if (n < c.length) {
          s.data.queue[0] = c.subarray(Math.max(0, n));
          return;
        }
        s.data.queue.shift();
      }
      s.end();
    }
    const p = proxyTo(server.port);
    const back: Uint8Array[] = [];
    let pending: Uint8Array = up;
    const closed = Promise.withResolvers<void>();
    const client = await Bun.connect({
      hostname: "127.0.0.1",
      port: p.port,
      socket: {
        data: (_s, chunk) => void back.push(chunk.slice()),
        drain(s) {
          const n = s.write(pending);
          pending = pending.subarray(Math.max(0, n));
        },
        close: () => closed.resolve(),
      },
    });
    // The client reads nothing until the proxy has all of `down`: its writes to the client then
    // meet a full socket, and what did not fit must wait in the proxy, not be lost.
    client.pause();
    const n = client.write(pending);
    pending = pending.subarray(Math.max(0, n));
    for (let i = 0; i < 500 && p.counts().down < down.length; i++) await Bun.sleep(10);
    expect(p.counts().down).toBe(down.length);
    client.resume();
    await closed.promise;
    const all = Buffer.concat(back);
    expect(received).toBe(up.length);
    expect(got.digest("hex")).toBe(sha(up));
    expect(all.length).toBe(down.length);
    expect(sha(all)).toBe(sha(down));
    expect(p.counts()).toEqual({ up: up.length, down: down.length, connections: 1 });
  });

  test("HTTP and a WebSocket through it; counts grow by what crossed", async () => {
    const body = randomBytes(2 ** 20);
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req, srv) {
        if (new URL(req.url).pathname === "/ws") return srv.upgrade(req) ? undefined : new Response("no", { status: 400 });
        return new Response(body);
      },
      websocket: { message: (ws, m) => void ws.send(`echo:${m}`) },
    });
    cleanup.push(() => server.stop(true));
    const p = proxyTo(server.port!);
    const r = await fetch(`${p.url}/file`);
    expect(sha(new Uint8Array(await r.arrayBuffer()))).toBe(sha(body));
    const afterHttp = p.counts();
    expect(afterHttp.down).toBeGreaterThan(body.length);
    expect(afterHttp.up).toBeGreaterThan(0);
    const ws = new WebSocket(`${p.url.replace("http", "ws")}/ws`);
    await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));
    const echoed = new Promise<string>((resolve) => (ws.onmessage = (m) => resolve(String(m.data))));
    ws.send("hello");
    expect(await echoed).toBe("echo:hello");
    ws.close();
    const afterWs = p.counts();
    expect(afterWs.connections).toBe(afterHttp.connections + 1);
    expect(afterWs.down).toBeGreaterThan(afterHttp.down);
  });
});
