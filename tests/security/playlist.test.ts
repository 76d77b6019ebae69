// A "media" file that is really a playlist or concat script must not make ffmpeg read
// local files or the network (SPEC §7).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { MEDIA_DEMUXERS } from "../../src/media/ffmpeg";
import { probeArgs } from "../../src/media/probe";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { tempDir } from "../helpers/tmp";

const dir = tempDir();
let t: TestNode;
let secretHits = 0;
let secretServer: ReturnType<typeof Bun.serve>;

const playlists = (secretUrl: string) => ({
  "hls-file.m3u8": "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd#.ts\n#EXT-X-ENDLIST\n",
  "hls-net.m3u8": `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n${secretUrl}/seg.ts\n#EXT-X-ENDLIST\n`,
  "concat.txt": "ffconcat version 1.0\nfile '/etc/passwd'\n",
  "disguised.mp4": "#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n",
});

beforeAll(async () => {
  secretServer = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (secretHits++, new Response("secret")) });
  for (const [name, text] of Object.entries(playlists(`http://127.0.0.1:${secretServer.port}`))) await Bun.write(join(dir.path, name), text);
  // The playlists are served too, for URL sources (allowlisted so the SSRF check lets them through).
  t = await startTestNode({ MEDIANODE_IMPORT_DIRS: dir.path, MEDIANODE_URL_ALLOWLIST: "127.0.0.1" });
});
afterAll(async () => {
  await t.stop();
  secretServer.stop(true);
  dir.remove();
});

test("ffprobe and ffmpeg open a user's file with a demuxer allowlist that has no playlist formats", () => {
  const args = probeArgs("ffprobe", "/x");
  expect(args[args.indexOf("-format_whitelist") + 1]).toBe(MEDIA_DEMUXERS);
});

test.each(["hls-file.m3u8", "hls-net.m3u8", "concat.txt", "disguised.mp4"])("%s uploaded as video or probe is refused (415), nothing read", async (name) => {
  for (const type of ["video", "probe", "audio"]) {
    const r = await t.api(`/v1/jobs?type=${type}`, { method: "POST", body: Bun.file(join(dir.path, name)) });
    expect(r.status).toBe(415);
  }
  expect(secretHits).toBe(0);
});

test.each(["hls-file.m3u8", "hls-net.m3u8", "concat.txt"])("%s as an import path is refused (415)", async (name) => {
  const r = await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "probe", source: { path: join(dir.path, name) } }) });
  expect(r.status).toBe(415);
  expect(secretHits).toBe(0);
});

test("a playlist behind a URL source fails the job without fetching what it points at", async () => {
  const origin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response(playlists(`http://127.0.0.1:${secretServer.port}`)["hls-net.m3u8"], { headers: { "content-type": "application/vnd.apple.mpegurl" } }),
  });
  try {
    for (const type of ["probe", "video"]) {
      const r = await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type, source: { url: `http://127.0.0.1:${origin.port}/list.m3u8` } }) });
      expect(r.status).toBe(202);
      const done = (await waitForJob(t, ((await r.json()) as { id: string }).id)) as unknown as { status: string; error: { code: string } };
      expect(done.status).toBe("failed");
      expect(["INVALID_INPUT", "UNSUPPORTED_MEDIA"]).toContain(done.error.code);
    }
    expect(secretHits).toBe(0);
  } finally {
    origin.stop(true);
  }
});
