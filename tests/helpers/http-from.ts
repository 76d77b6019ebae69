// An HTTP request from a chosen local address (fetch cannot pick one): on Linux the whole of
// 127.0.0.0/8 is this host, so 127.0.0.2 is a second client that is not 127.0.0.1.
import http from "node:http";

export interface FromResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function requestFrom(localAddress: string, url: string, o: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string } = {}): Promise<FromResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: o.method ?? "GET", headers: o.headers, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(o.body);
  });
}
