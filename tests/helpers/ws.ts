// Promise helpers over a real WebSocket client (as Elysia's test/ws/utils.ts does).
export interface WsClient {
  ws: WebSocket;
  messages: Record<string, unknown>[];
  /** Resolves with the first message (already received or to come) that matches. */
  next(match: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): void;
}

export async function wsConnect(url: string): Promise<WsClient> {
  const ws = new WebSocket(url);
  const messages: Record<string, unknown>[] = [];
  const waiters: { match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  ws.onmessage = (e) => {
    const m = JSON.parse(String(e.data)) as Record<string, unknown>;
    messages.push(m);
    for (const w of [...waiters]) if (w.match(m)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(m));
  };
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`WebSocket ${url} failed to open`));
  });
  return {
    ws,
    messages,
    next(match, timeoutMs = 30_000) {
      const seen = messages.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { match, resolve };
        waiters.push(w);
        setTimeout(() => reject(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages.map((x) => x.type))}`)), timeoutMs);
      });
    },
    close: () => ws.close(),
  };
}

/** The HTTP status a refused upgrade answers with. */
export async function wsRefusal(httpUrl: string, headers: Record<string, string> = {}): Promise<number> {
  const r = await fetch(httpUrl, { headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", ...headers } });
  return r.status;
}
