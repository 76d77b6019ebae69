// The README's nginx caching note, run: Debian's nginx with that `location /p/` block in front
// of a real node caches segments and playlists by medianode's Cache-Control, revalidates with
// 304s, serves ranges, and never keeps an error (403/410 are no-store).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { startTestNode, waitForJob, type TestNode } from "../../helpers/server";
import { lavfiClip } from "../../helpers/media";
import { tempDir } from "../../helpers/tmp";

let node: TestNode;
let dir: ReturnType<typeof tempDir>;
let nginx: Subprocess;
let front: string;
let pb: { hls: string; mp4: string; base: string };

/** The README's block, taken from the README itself so the two cannot drift apart. */
function readmeLocation(): string {
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  // The README has more than one nginx block: the caching one is the one with `location /p/`.
  const m = [...readme.matchAll(/```nginx\n([\s\S]*?)```/g)].find((b) => b[1]!.includes("location /p/ {"));
  if (!m) throw new Error("README has no nginx block with location /p/");
  const block = /location \/p\/ \{[\s\S]*?\n {4}\}/.exec(m[1]!);
  if (!block) throw new Error("README's nginx block has no location /p/");
  return block[0];
}

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const p = s.port!;
  s.stop(true);
  return p;
}

beforeAll(async () => {
  dir = tempDir("mn-nginx-");
  node = await startTestNode();
  const clip = lavfiClip(join(dir.path, "clip.mp4"), { width: 320, height: 240, durationSec: 4 });
  const r = await node.api(`/v1/jobs?type=video&options=${encodeURIComponent(JSON.stringify({ renditions: [240], segmentSec: 2 }))}`, { method: "POST", body: Bun.file(clip) });
  const id = ((await r.json()) as { id: string }).id;
  expect((await waitForJob(node, id, 120_000)).status).toBe("completed");
  const port = await freePort();
  front = `http://127.0.0.1:${port}`;
  pb = (await (await fetch(`${node.url}/v1/jobs/${id}/playback`, { headers: { authorization: `Bearer ${node.token}` } })).json()) as typeof pb;
  const cache = join(dir.path, "cache");
  mkdirSync(join(dir.path, "logs"), { recursive: true });
  const location = readmeLocation().replace("http://127.0.0.1:8080", node.url);
  const conf = `daemon off;
master_process off;
pid ${join(dir.path, "nginx.pid")};
error_log ${join(dir.path, "logs", "error.log")} warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${join(dir.path, "body")};
  proxy_temp_path ${join(dir.path, "proxy")};
  fastcgi_temp_path ${join(dir.path, "fastcgi")};
  uwsgi_temp_path ${join(dir.path, "uwsgi")};
  scgi_temp_path ${join(dir.path, "scgi")};
  proxy_cache_path ${cache} keys_zone=medianode:10m max_size=1g inactive=30d use_temp_path=off;
  server {
    listen 127.0.0.1:${port};
    ${location}
  }
}
`;
  writeFileSync(join(dir.path, "nginx.conf"), conf);
  nginx = Bun.spawn(["nginx", "-p", dir.path, "-c", join(dir.path, "nginx.conf")], { stdout: "ignore", stderr: "pipe" });
  for (let i = 0; ; i++) {
    const up = await fetch(front + "/p/x/y").then(() => true, () => false);
    if (up) break;
    if (i > 100) throw new Error(`nginx did not start: ${readFileSync(join(dir.path, "logs", "error.log"), "utf8")}`);
    await Bun.sleep(50);
  }
});

afterAll(async () => {
  nginx?.kill();
  await nginx?.exited;
  await node?.stop();
  dir?.remove();
});

const viaFront = (url: string, init?: RequestInit) => fetch(front + new URL(url).pathname, init);

test("segments and playlists are cached by medianode's Cache-Control; ranges come from the cache", async () => {
  const children = (await (await viaFront(pb.hls)).text()).split("\n").filter((l) => l && !l.startsWith("#"));
  const child = new URL(children[0]!, pb.hls).href;
  const segment = new URL((await (await viaFront(child)).text()).split("\n").find((l) => l.endsWith(".ts"))!, child).href;
  for (const url of [pb.hls, segment, pb.mp4]) {
    const first = await viaFront(url);
    await first.arrayBuffer();
    const second = await viaFront(url);
    expect(second.status).toBe(200);
    expect(second.headers.get("x-cache"), url).toBe("HIT");
    expect(second.headers.get("access-control-allow-origin")).toBe("*");
    await second.arrayBuffer();
  }
  const part = await viaFront(pb.mp4, { headers: { range: "bytes=0-99" } });
  expect(part.status).toBe(206);
  expect(part.headers.get("x-cache")).toBe("HIT");
  expect((await part.arrayBuffer()).byteLength).toBe(100);
});

test("errors are never cached: a bad token is 403 every time, straight from the node", async () => {
  for (let i = 0; i < 2; i++) {
    const r = await fetch(`${front}/p/not-a-token/master.m3u8`);
    expect(r.status).toBe(403);
    expect(r.headers.get("x-cache")).not.toBe("HIT");
  }
});
