// submit, jobs and queues against a real node (api + worker, private Redis), through the
// CLI as a child process; one in-process run checks the progress bar on a "terminal".
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { main } from "../../cli/main";
import { corpus } from "../helpers/corpus";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";
import { bufferIo, expectExit, runCli, type CliResult } from "./run";

let t: TestNode;
let cli: (args: string[], o?: { env?: Record<string, string> }) => Promise<CliResult>;

type JobJson = {
  id: string;
  type: string;
  status: string;
  progress: number;
  outputs: { name: string; url: string; bytes: number; width?: number; height?: number }[];
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  metadata: unknown;
  priority: number;
};

beforeAll(async () => {
  // The URL test serves corpus files from this process: let the node reach loopback.
  t = await startTestNode({ MEDIANODE_URL_ALLOWLIST: "127.0.0.1" });
  cli = (args, o = {}) => runCli([...args, "--url", t.url, "--token", t.token], o);
});
afterAll(async () => {
  await t?.stop();
});

describe("submit", () => {
  test("an image with --wait --json completes with the MANIFEST's (auto-oriented) size", async () => {
    const { path, entry } = corpus("image-jpeg-exif-orient6.jpg");
    const r = expectExit(await cli(["submit", path, "--wait", "--json", "--metadata", '{"uid":7}', "--priority", "5"]), 0);
    const job = JSON.parse(r.stdout) as JobJson;
    expect(job.type).toBe("image"); // guessed from .jpg
    expect(job.status).toBe("completed");
    expect(job.result!.width).toBe(entry.expect.autoOrient!.width);
    expect(job.result!.height).toBe(entry.expect.autoOrient!.height);
    expect(job.metadata).toEqual({ uid: 7 });
    expect(job.priority).toBe(5);
    expect(job.outputs.map((o) => o.name).sort()).toEqual(["preview.webp", "thumb.webp"]);
  });

  test("a probe with --wait --json matches the MANIFEST's duration and streams", async () => {
    const { path, entry } = corpus("video-h264-aac-moov-at-end-320x240.mp4");
    const r = expectExit(await cli(["submit", path, "--type", "probe", "--wait", "--json"]), 0);
    const job = JSON.parse(r.stdout) as JobJson;
    expect(job.status).toBe("completed");
    expect(Math.abs((job.result!.durationSec as number) - entry.expect.durationSec!)).toBeLessThan(0.11);
    const streams = job.result!.streams as { type: string; width?: number }[];
    expect(streams.map((s) => s.type)).toEqual(entry.expect.streams!.map((s) => s.type));
    expect(streams.find((s) => s.type === "video")!.width).toBe(320);
  });

  test("piped, --wait prints plain progress lines (stderr) and the outputs (stdout)", async () => {
    const { path } = corpus("image-png-rgba-alpha.png");
    const r = expectExit(await cli(["submit", path, "--wait", "--options", '{"variants":[{"name":"small","size":64,"format":"png"}]}']), 0);
    const lines = r.stderr.trim().split("\n");
    for (const l of lines) expect(l).toMatch(/^job j_\w+ (queued|active|completed) \d+%$/);
    expect(lines.at(-1)).toMatch(/completed 100%$/);
    expect(new Set(lines).size).toBe(lines.length); // a line only when something changed
    expect(r.stdout).toMatch(/^job j_\w+ completed/);
    expect(r.stdout).toMatch(new RegExp(`^small\\.png +[\\d.]+ (B|KiB) +${t.url.replace(/[.]/g, "\\.")}/v1/jobs/j_\\w+/outputs/small\\.png$`, "m"));
    expect(r.stdout).not.toContain("\x1b[");
    // Last: a playback URL (no header needed) that serves the output.
    const pb = /^playback: (\S+) \(until (\S+)\)$/m.exec(r.stdout);
    expect(pb, r.stdout).not.toBeNull();
    expect(pb![1]).toMatch(new RegExp(`^${t.url.replace(/[.]/g, "\\.")}/p/[^/]+/$`));
    expect((await fetch(pb![1] + "small.png")).status).toBe(200);
  });

  test("an http URL is sent as {source:{url}}; a probe prints a readable summary", async () => {
    const { path, entry } = corpus("video-webm-vp8-vorbis-960x540.webm");
    const origin = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(Bun.file(path)) });
    try {
      const r = expectExit(await cli(["submit", `http://127.0.0.1:${origin.port}/clip.webm`, "--type", "probe", "--wait"]), 0);
      expect(r.stdout).toMatch(/^format matroska,webm, [\d.]+ s/m);
      expect(r.stdout).toMatch(/^ {2}video vp8 960x540/m);
      expect(r.stdout).toMatch(/^ {2}audio vorbis \d+ Hz \d ch/m);
      const id = /job (j_\w+) completed/.exec(r.stdout)![1]!;
      const job = JSON.parse(expectExit(await cli(["jobs", "show", id, "--json"]), 0).stdout) as JobJson & { source: unknown };
      expect(job.source).toEqual({ kind: "url", url: `http://127.0.0.1:${origin.port}/clip.webm` });
      expect(Math.abs((job.result!.durationSec as number) - entry.expect.durationSec!)).toBeLessThan(0.11);
    } finally {
      origin.stop(true);
    }
  });

  test("without --wait prints just the job id", async () => {
    const { path } = corpus("image-jpeg-1x1.jpg");
    const r = expectExit(await cli(["submit", path]), 0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^j_\w+$/);
    expect((await waitForJob(t, id)).status).toBe("completed");
  });

  test("a file that is not what its type needs is refused: exit 1 with the code printed", async () => {
    const { path } = corpus("bad-truncated.jpg");
    const r = expectExit(await cli(["submit", path, "--type", "image", "--wait"]), 1);
    // Refused at upload (415), or accepted and failed without retry: either way the code is shown.
    expect(r.stderr).toMatch(/UNSUPPORTED_MEDIA \(HTTP 415\)|failed: INVALID_INPUT/);
    const text = expectExit(await cli(["submit", corpus("bad-json-as.webp").path]), 1);
    expect(text.stderr).toContain("UNSUPPORTED_MEDIA (HTTP 415)");
  });

  test("invalid options are refused by the server: exit 1 with the details", async () => {
    const r = expectExit(await cli(["submit", corpus("image-jpeg-1x1.jpg").path, "--options", '{"frobnicate":true}']), 1);
    expect(r.stderr).toMatch(/INVALID_OPTIONS \(HTTP 422\)/);
  });

  test("a bad token is refused (exit 1) with a hint", async () => {
    const r = expectExit(await runCli(["jobs", "list", "--url", t.url, "--token", "mn_nope"]), 1);
    expect(r.stderr).toContain("UNAUTHORIZED (HTTP 401)");
    expect(r.stderr).toContain("MEDIANODE_TOKEN");
  });

  test("the token is read from <data-dir>/admin.token, or MEDIANODE_TOKEN", async () => {
    expectExit(await runCli(["jobs", "list", "--url", t.url, "--data-dir", t.dataDir]), 0);
    expectExit(await runCli(["jobs", "list"], { env: { MEDIANODE_URL: t.url, MEDIANODE_TOKEN: t.token } }), 0);
  });

  test("on a terminal, --wait draws a progress bar", async () => {
    const io = bufferIo({ tty: true });
    const code = await main(["submit", corpus("image-webp-lossy.webp").path, "--wait", "--url", t.url, "--token", t.token], io);
    expect(code).toBe(0);
    expect(io.err()).toMatch(/j_\w+ \[[█░]+\] 100% \| completed/);
    expect(io.out()).toContain("thumb.webp");
  });
});

describe("jobs and queues", () => {
  test("pause a queue, cancel and retry a waiting job, resume, watch it complete", async () => {
    expect(expectExit(await cli(["queues", "pause", "image"]), 0).stdout).toContain("queue image paused");
    const queues = JSON.parse(expectExit(await cli(["queues", "--json"]), 0).stdout) as { items: { name: string; paused: boolean }[] };
    expect(queues.items.find((q) => q.name === "image")!.paused).toBe(true);
    try {
      const id = expectExit(await cli(["submit", corpus("image-png-palette.png").path]), 0).stdout.trim();
      const listed = JSON.parse(expectExit(await cli(["jobs", "list", "--status", "queued", "--type", "image", "--json"]), 0).stdout) as { items: JobJson[] };
      expect(listed.items.map((j) => j.id)).toContain(id);

      expect(expectExit(await cli(["jobs", "cancel", id]), 0).stdout).toBe(`job ${id} cancelled\n`);
      const shown = expectExit(await cli(["jobs", "show", id]), 0).stdout;
      expect(shown).toMatch(/^status +cancelled/m);
      // watch on a cancelled job: not completed → exit 1
      expect(expectExit(await cli(["jobs", "watch", id]), 1).stderr).toContain("cancelled");

      expect(expectExit(await cli(["jobs", "retry", id]), 0).stdout).toBe(`job ${id} queued\n`);
      expect(expectExit(await cli(["queues", "resume", "image"]), 0).stdout).toContain("queue image resumed");
      const watched = expectExit(await cli(["jobs", "watch", id, "--json"]), 0);
      expect((JSON.parse(watched.stdout) as JobJson).status).toBe("completed");
      expect(watched.stderr).toMatch(/completed 100%/);
    } finally {
      await cli(["queues", "resume", "image"]);
    }
  });

  test("jobs url prints a playback URL that plays with no header; --ttl, --json; refusals exit 1 or 2", async () => {
    const { path } = corpus("image-jpeg-1x1.jpg");
    const id = JSON.parse(expectExit(await cli(["submit", path, "--wait", "--json"]), 0).stdout).id as string;
    const url = expectExit(await cli(["jobs", "url", id]), 0).stdout.trim();
    expect(url).toMatch(new RegExp(`^${t.url.replace(/[.]/g, "\\.")}/p/[^/]+/$`));
    const job = (await (await t.api(`/v1/jobs/${id}`)).json()) as JobJson;
    expect((await fetch(url + job.outputs[0]!.name)).status).toBe(200);
    const j = JSON.parse(expectExit(await cli(["jobs", "url", id, "--ttl", "120", "--json"]), 0).stdout) as { base: string; hls: null; expiresAt: string };
    expect(j.hls).toBeNull();
    expect(Math.abs(Date.parse(j.expiresAt) - Date.now() - 120_000)).toBeLessThan(10_000);
    expect(expectExit(await cli(["jobs", "url", id, "--ttl", "999999999"]), 1).stderr).toContain("ttl");
    expectExit(await cli(["jobs", "url", id, "--ttl", "abc"]), 2);
    expectExit(await cli(["jobs", "url", "j_00000000000000000000000000"]), 1);
  });

  test("jobs list prints a table, newest first; --limit pages with a cursor", async () => {
    const table = expectExit(await cli(["jobs", "list", "--limit", "2"]), 0).stdout;
    expect(table.split("\n")[0]).toMatch(/^ID +TYPE +STATUS +PROGRESS +CREATED/);
    expect(table).toContain("more: --cursor ");
    const page1 = JSON.parse(expectExit(await cli(["jobs", "list", "--limit", "2", "--json"]), 0).stdout) as { items: JobJson[]; nextCursor: string };
    expect(page1.items).toHaveLength(2);
    const page2 = JSON.parse(expectExit(await cli(["jobs", "list", "--limit", "2", "--cursor", page1.nextCursor, "--json"]), 0).stdout) as { items: JobJson[] };
    expect(page2.items.length).toBeGreaterThan(0);
    expect(page2.items.map((j) => j.id)).not.toContain(page1.items[0]!.id);
  });

  test("show of an unknown job exits 1 with NOT_FOUND; failed jobs show their error", async () => {
    expect(expectExit(await cli(["jobs", "show", "j_nope"]), 1).stderr).toContain("NOT_FOUND (HTTP 404)");
    const failed = JSON.parse(expectExit(await cli(["jobs", "list", "--status", "failed", "--json"]), 0).stdout) as { items: JobJson[] };
    for (const j of failed.items) expect(j.error).not.toBeNull();
  });

  test("nodes: lists this node with its roles and ffmpeg, as a table and as JSON", async () => {
    const json = JSON.parse(expectExit(await cli(["nodes", "--json"]), 0).stdout) as { items: { id: string; roles: string[]; encoders: string[] }[] };
    expect(json.items.length).toBeGreaterThan(0);
    expect(json.items[0]!.roles).toContain("api");
    expect(json.items[0]!.encoders).toContain("libx264");
    const text = expectExit(await cli(["nodes"]), 0).stdout;
    expect(text).toContain("ROLES");
    expect(text).toContain(json.items[0]!.id);
  });

  test("pausing an unknown queue exits 1 with the server's message", async () => {
    expect(expectExit(await cli(["queues", "pause", "gifs"]), 1).stderr).toContain("no queue gifs");
  });
});
