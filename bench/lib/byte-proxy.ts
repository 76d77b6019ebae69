// A counting TCP proxy for benchmarks: listens on a free 127.0.0.1 port and forwards every
// connection to `target`, counting the bytes each way. Put in front of a node's port (or a
// bucket's), it measures what really crosses that process on the wire (HTTP headers, WebSocket
// frames, retries included), which the node's own counters cannot be trusted to see.
import type { Socket, TCPSocketListener } from "bun";

export interface ByteCounts {
  /** Client → target. */
  up: number;
  /** Target → client. */
  down: number;
  /** Connections accepted so far. */
  connections: number;
}

export interface ByteProxy {
  url: string;
  port: number;
  /** Totals since start (take two and subtract for a window). */
  counts(): ByteCounts;
  stop(): void;
}

/** One direction's writer: what a socket could not take yet waits here until its drain. */
interface Outbox {
  sock: Socket<Conn> | null;
  queue: Uint8Array[];
  /** The other side ended: end this one once the queue is written. */
  ending: boolean;
}

interface Conn {
  toTarget: Outbox;
  toClient: Outbox;
}

function flush(o: Outbox): void {
  if (!o.sock) return;
  while (o.queue.length) {
    const chunk = o.queue[0]!;
    const n = o.sock.write(chunk);
    if (n < chunk.length) {
      o.queue[0] = chunk.subarray(Math.max(0, n));
      return;
    }
    o.queue.shift();
  }
  if (o.ending) o.sock.end();
}

function send(o: Outbox, chunk: Uint8Array): void {
  // Queued chunks are copied: the buffer handed to data() is not ours to keep.
  if (!o.sock || o.queue.length) {
    o.queue.push(chunk.slice());
    return;
  }
  const n = o.sock.write(chunk);
  if (n < chunk.length) o.queue.push(chunk.slice(Math.max(0, n)));
}

function end(o: Outbox): void {
  o.ending = true;
  if (o.sock && !o.queue.length) o.sock.end();
}

export function startByteProxy(target: string): ByteProxy {
  const t = new URL(target);
  const hostname = t.hostname;
  const port = Number(t.port || (t.protocol === "https:" ? 443 : 80));
  const totals: ByteCounts = { up: 0, down: 0, connections: 0 };
  const listener: TCPSocketListener<Conn> = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        totals.connections++;
        const conn: Conn = { toTarget: { sock: null, queue: [], ending: false }, toClient: { sock: client, queue: [], ending: false } };
        client.data = conn;
        Bun.connect<Conn>({
          hostname,
          port,
          data: conn,
          socket: {
            open(up) {
              conn.toTarget.sock = up;
              flush(conn.toTarget);
            },
            data(_up, chunk) {
              totals.down += chunk.length;
              send(conn.toClient, chunk);
            },
            drain: () => flush(conn.toTarget),
            close: () => end(conn.toClient),
            end: () => end(conn.toClient),
            error: () => end(conn.toClient),
            connectError: () => void client.end(),
          },
        }).catch(() => void client.end());
      },
      data(client, chunk) {
        totals.up += chunk.length;
        send(client.data.toTarget, chunk);
      },
      drain: (client) => flush(client.data.toClient),
      close: (client) => end(client.data.toTarget),
      end: (client) => end(client.data.toTarget),
      error: (client) => end(client.data.toTarget),
    },
  });
  return {
    url: `${t.protocol}//127.0.0.1:${listener.port}`,
    port: listener.port,
    counts: () => ({ ...totals }),
    stop: () => listener.stop(true),
  };
}
