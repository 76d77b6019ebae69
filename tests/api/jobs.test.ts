import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createToken } from "../../src/services/tokens";
import { byKind, corpus, CORPUS_DIR } from "../helpers/corpus";
import { startTestNode, waitForJob, type TestNode } from "../helpers/server";

let t: TestNode;
let readOnly: string;
let otherTenant: string;

type JobJson = { id: string; status: string; outputs: { name: string; url: string; mime: string; width?: number; height?: number; bytes: number }[]; result: Record<string, unknown>; error: { code: string } | null; [k: string]: unknown };

async function expectStatus(r: Response, status: number): Promise<Record<string, unknown>> {
  const text = await r.text();
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

const upload = (file: string, type: string, extra = "") =>
  t.api(`/v1/jobs?type=${type}${extra}`, { method: "POST", body: Bun.file(file), headers: { "content-type": "application/octet-stream" } });

beforeAll(async () => {
  t = await startTestNode({ MEDIANODE_IMPORT_DIRS: CORPUS_DIR, MEDIANODE_MAX_UPLOAD_BYTES: String(4 * 1024 * 1024) });
  const records = await t.records();
  readOnly = (await createToken(records, { name: "reader", scopes: ["jobs:read"], tenant: "admin" }, "test")).token;
  otherTenant = (await createToken(records, { name: "other", scopes: ["jobs:read", "jobs:write"], tenant: "other" }, "test")).token;
});
afterAll(async () => {
  await t.stop();
});

describe("image jobs", () => {
  test("a raw-body upload completes with variants oriented like the MANIFEST says", async () => {
    const { path, entry } = corpus("image-jpeg-exif-orient6.jpg");
    const job = (await expectStatus(await upload(path, "image"), 202)) as JobJson;
    expect(job.status).toBe("queued");
    const done = (await waitForJob(t, job.id)) as JobJson;
    expect(done.status).toBe("completed");
    expect(done.result.width).toBe(entry.expect.autoOrient!.width);
    expect(done.result.height).toBe(entry.expect.autoOrient!.height);
    expect(typeof done.result.thumbhash).toBe("string");
    const thumb = done.outputs.find((o) => o.name === "thumb.webp")!;
    expect(thumb.width).toBe(256);
    expect(thumb.mime).toBe("image/webp");
    // Landscape stays landscape: the preview is 1440 wide.
    expect(done.outputs.find((o) => o.name === "preview.webp")!.width).toBe(1440);
    expect(existsSync(join(t.dataDir, "media", job.id, "out", "thumb.webp"))).toBe(true);
  });

  test("a multipart upload with options completes; outputs are served with Range and the right type", async () => {
    const { path } = corpus("image-png-rgba-alpha.png");
    const fd = new FormData();
    fd.append("type", "image");
    fd.append("options", JSON.stringify({ variants: [{ name: "small", size: 64, format: "png" }] }));
    fd.append("metadata", JSON.stringify({ uid: 42, store: "s1" }));
    fd.append("file", Bun.file(path), "alpha.png");
    const job = (await expectStatus(await t.api("/v1/jobs", { method: "POST", body: fd }), 202)) as JobJson;
    const done = (await waitForJob(t, job.id)) as JobJson;
    expect(done.status).toBe("completed");
    expect(done.metadata).toEqual({ uid: 42, store: "s1" });
    const out = done.outputs[0]!;
    expect(out.name).toBe("small.png");
    const whole = await t.api(out.url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("image/png");
    const bytes = new Uint8Array(await whole.arrayBuffer());
    expect(bytes.byteLength).toBe(out.bytes);
    const part = await t.api(out.url, { headers: { range: "bytes=1-3" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 1-3/${out.bytes}`);
    expect([...new Uint8Array(await part.arrayBuffer())]).toEqual([...bytes.slice(1, 4)]);
    expect((await t.api(out.url, { headers: { range: "bytes=999999-" } })).status).toBe(416);
  });

  test("a truncated JPEG that probes fine fails once with INVALID_INPUT, not retried", async () => {
    const { path } = corpus("bad-truncated.jpg");
    const r = await upload(path, "image");
    if (r.status === 415) return void expect(((await r.json()) as { error: { code: string } }).error.code).toBe("UNSUPPORTED_MEDIA");
    const job = (await expectStatus(r, 202)) as JobJson;
    const done = (await waitForJob(t, job.id)) as JobJson;
    expect(done.status).toBe("failed");
    expect(done.error!.code).toBe("INVALID_INPUT");
    expect(done.attempts).toBe(1);
  });
});

describe("probe jobs", () => {
  test.each(byKind("video").slice(0, 3).map((e) => e.file))("probe of an import path matches the MANIFEST: %s", async (file) => {
    const { path, entry } = corpus(file);
    const r = await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "probe", source: { path } }) });
    const job = (await expectStatus(r, 202)) as JobJson;
    const done = (await waitForJob(t, job.id)) as JobJson;
    expect(done.status).toBe("completed");
    expect(done.result.format).toBe(entry.expect.format_name!);
    if (entry.expect.durationSec != null) expect(Math.abs((done.result.durationSec as number) - entry.expect.durationSec)).toBeLessThan(0.11);
    const streams = done.result.streams as { type: string; codec: string; width?: number; height?: number }[];
    expect(streams.map((s) => s.type)).toEqual(entry.expect.streams!.map((s) => s.type));
    const v = entry.expect.streams!.find((s) => s.type === "video");
    if (v) expect(streams.find((s) => s.type === "video")!.width).toBe(v.width!);
  });

  test("probe of a URL reads only the bytes it needs, through HTTP Range", async () => {
    // A much bigger file than ffprobe needs: a 60 s clip with its index at the end (no faststart).
    const big = join(t.dataDir, "remote.mp4");
    const gen = Bun.spawnSync(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine", "-t", "60", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "4M", "-c:a", "aac", "-y", big]);
    expect(gen.exitCode).toBe(0);
    const size = Bun.file(big).size;
    let ranged = 0;
    const origin = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        const m = /bytes=(\d+)-(\d*)/.exec(req.headers.get("range") ?? "");
        if (!m) return new Response(Bun.file(big));
        ranged++;
        const start = Number(m[1]);
        const end = m[2] ? Number(m[2]) : size - 1;
        return new Response(Bun.file(big).slice(start, end + 1), { status: 206, headers: { "content-range": `bytes ${start}-${end}/${size}`, "accept-ranges": "bytes" } });
      },
    });
    try {
      // Its own Redis: a worker of the first node (no allowlist) must not take this job.
      const t2 = await startTestNode({ MEDIANODE_URL_ALLOWLIST: "127.0.0.1" });
      try {
        const r = await t2.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "probe", source: { url: `http://127.0.0.1:${origin.port}/v.mp4` } }) });
        const job = (await expectStatus(r, 202)) as JobJson;
        const done = (await waitForJob(t2, job.id)) as JobJson;
        expect(done.status).toBe("completed");
        expect(Math.round(done.result.durationSec as number)).toBe(60);
        expect(ranged).toBeGreaterThan(0);
        expect(done.result.bytesFetched as number).toBeGreaterThan(0);
        // The head, the index at the end and the first packets, in bounded windows: a fraction of
        // the file (what loopback socket buffers hold ahead of ffprobe is counted too).
        expect(done.result.bytesFetched as number).toBeLessThan(size / 3);
      } finally {
        await t2.stop();
      }
    } finally {
      origin.stop(true);
    }
  });

  test("a URL to a private address is refused (403) unless allowlisted", async () => {
    const r = await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "probe", source: { url: "http://127.0.0.1:1/x.mp4" } }) });
    expect(((await expectStatus(r, 403)).error as { code: string }).code).toBe("FORBIDDEN");
  });
});

describe("errors: status and code, nothing left behind", () => {
  const jobCount = async () => ((await (await t.api("/v1/jobs?limit=500")).json()) as { items: unknown[] }).items.length;
  const mediaDirs = () => readdirSync(join(t.dataDir, "media")).length;

  test.each([
    ["no token", () => fetch(t.url + "/v1/jobs"), 401, "UNAUTHORIZED"],
    ["a bad token", () => fetch(t.url + "/v1/jobs", { headers: { authorization: "Bearer mn_t_00000000000000000000000000.nope-nope-nope-nope" } }), 401, "UNAUTHORIZED"],
    ["a read-only token writing", () => fetch(t.url + "/v1/jobs?type=image", { method: "POST", headers: { authorization: `Bearer ${readOnly}` }, body: "x" }), 403, "FORBIDDEN"],
    ["an unknown job", () => t.api("/v1/jobs/j_00000000000000000000000000"), 404, "NOT_FOUND"],
    ["an unknown route", () => t.api("/v1/nope"), 404, "NOT_FOUND"],
    ["malformed JSON", () => t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" }), 400, "BAD_REQUEST"],
    ["a missing type", () => t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ source: { path: "/x" } }) }), 400, "BAD_REQUEST"],
    ["an unknown type", () => upload(corpus("image-webp-lossy.webp").path, "sculpture"), 400, "BAD_REQUEST"],
    ["an unknown option key", () => upload(corpus("image-webp-lossy.webp").path, "image", "&options=" + encodeURIComponent('{"sharpen":true}')), 422, "INVALID_OPTIONS"],
    ["a bad option value", () => upload(corpus("image-webp-lossy.webp").path, "image", "&options=" + encodeURIComponent('{"variants":[{"name":"x","size":5}]}')), 422, "INVALID_OPTIONS"],
    ["metadata over 16 KiB", () => t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "probe", source: { path: corpus("image-webp-lossy.webp").path }, metadata: { x: "y".repeat(17000) } }) }), 422, "INVALID_OPTIONS"],
    ["text that is not media", () => t.api("/v1/jobs?type=image", { method: "POST", body: "hello, I am not a picture\n".repeat(10) }), 415, "UNSUPPORTED_MEDIA"],
    ["a zero-byte file", () => upload(corpus("bad-zero-bytes.mp4").path, "probe"), 415, "UNSUPPORTED_MEDIA"],
    ["audio sent as an image job", () => upload(corpus("audio-wav-pcm-s16le.wav").path, "image"), 415, "UNSUPPORTED_MEDIA"],
    ["an image sent as a video job", () => upload(corpus("image-webp-lossy.webp").path, "video"), 415, "UNSUPPORTED_MEDIA"],
    ["a path outside the import dirs", () => t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "probe", source: { path: "/etc/passwd" } }) }), 403, "FORBIDDEN"],
    ["a path escaping with ..", () => t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "probe", source: { path: CORPUS_DIR + "../".repeat(30) + "etc/passwd" } }) }), 403, "FORBIDDEN"],
    ["a file:// URL", () => t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "probe", source: { url: "file:///etc/passwd" } }) }), 403, "FORBIDDEN"],
    ["a bad list query", () => t.api("/v1/jobs?status=sleeping"), 400, "BAD_REQUEST"],
  ] as const)("%s → %i %s", async (_name, call, status, code) => {
    const before = [await jobCount(), mediaDirs()];
    const body = await expectStatus(await call(), status);
    expect((body.error as { code: string }).code).toBe(code);
    expect(typeof (body.error as { message: string }).message).toBe("string");
    expect([await jobCount(), mediaDirs()]).toEqual(before);
  });

  test("an upload over the cap is refused with 413 while streaming, before the rest is read", async () => {
    const before = mediaDirs();
    let sent = 0;
    const chunk = new Uint8Array(256 * 1024).fill(7);
    const total = 64 * 1024 * 1024; // 16× the 4 MiB cap
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        if (sent >= total) return ctl.close();
        sent += chunk.byteLength;
        ctl.enqueue(chunk);
        await Bun.sleep(1);
      },
    });
    // No Content-Length: the cap must be enforced on the bytes as they arrive.
    const r = await t.api("/v1/jobs?type=probe", { method: "POST", body, headers: { "content-type": "video/mp4" } });
    const b = await expectStatus(r, 413);
    expect((b.error as { code: string }).code).toBe("PAYLOAD_TOO_LARGE");
    expect(sent).toBeLessThan(total);
    expect(mediaDirs()).toBe(before);
  });

  test("a declared Content-Length over the cap is refused at once, without sending the body", async () => {
    const { port } = new URL(t.url);
    const reply = await new Promise<string>((resolve, reject) => {
      let text = "";
      void Bun.connect({
        hostname: "127.0.0.1",
        port: Number(port),
        socket: {
          open(s) {
            s.write(`POST /v1/jobs?type=probe HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${t.token}\r\nContent-Type: video/mp4\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`);
            s.write(new Uint8Array(1024));
          },
          data(_s, d) {
            text += Buffer.from(d).toString();
            if (text.includes("\r\n\r\n{")) resolve(text);
          },
          close: () => resolve(text),
          error: (_s, e) => reject(e),
        },
      });
      setTimeout(() => resolve(text), 5000);
    });
    expect(reply).toStartWith("HTTP/1.1 413");
    expect(reply).toContain("PAYLOAD_TOO_LARGE");
  });

  test("another tenant's job is 404 (never 403), and absent from its list", async () => {
    const job = (await expectStatus(await upload(corpus("image-webp-lossy.webp").path, "image"), 202)) as JobJson;
    const other = { authorization: `Bearer ${otherTenant}` };
    expect((await fetch(`${t.url}/v1/jobs/${job.id}`, { headers: other })).status).toBe(404);
    expect((await fetch(`${t.url}/v1/jobs/${job.id}`, { method: "DELETE", headers: other })).status).toBe(404);
    const list = (await (await fetch(`${t.url}/v1/jobs`, { headers: other })).json()) as { items: { id: string }[] };
    expect(list.items.map((j) => j.id)).not.toContain(job.id);
    await waitForJob(t, job.id);
  });
});

describe("list, idempotency, batch, cancel, retry", () => {
  test("list pages with a cursor, newest first, filtered by status and type", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(((await (await upload(corpus("image-jpeg-1x1.jpg").path, "image")).json()) as JobJson).id);
    for (const id of ids) await waitForJob(t, id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (await t.api(`/v1/jobs?type=image&status=completed&limit=2${cursor ? `&cursor=${cursor}` : ""}`)).json()) as { items: JobJson[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const j of page.items) expect([j.type, j.status]).toEqual(["image", "completed"]);
      seen.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...seen].sort().reverse());
    for (const id of ids) expect(seen).toContain(id);
  });

  test("the same idempotencyKey from the same token returns the first job", async () => {
    const body = JSON.stringify({ type: "probe", source: { path: corpus("audio-mp3-vbr-xing.mp3").path }, idempotencyKey: "upload-77" });
    const a = (await expectStatus(await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body }), 202)) as JobJson;
    const b = (await expectStatus(await t.api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body }), 202)) as JobJson;
    expect(b.id).toBe(a.id);
    // A different token with the same key is a different job.
    const c = (await (await fetch(`${t.url}/v1/jobs`, { method: "POST", headers: { authorization: `Bearer ${otherTenant}`, "content-type": "application/json" }, body })).json()) as JobJson;
    expect(c.id).not.toBe(a.id);
  });

  test("batch: several jobs in one request; an empty or oversized batch is 400", async () => {
    const item = { type: "probe", source: { path: corpus("audio-ogg-opus.opus").path } };
    const r = await t.api("/v1/jobs/batch", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([item, item, item]) });
    const body = (await expectStatus(r, 202)) as unknown as { items: JobJson[] };
    expect(body.items.length).toBe(3);
    for (const j of body.items) expect((await waitForJob(t, j.id)).status).toBe("completed");
    expect((await t.api("/v1/jobs/batch", { method: "POST", headers: { "content-type": "application/json" }, body: "[]" })).status).toBe(400);
    const big = JSON.stringify(Array.from({ length: 1001 }, () => item));
    expect((await t.api("/v1/jobs/batch", { method: "POST", headers: { "content-type": "application/json" }, body: big })).status).toBe(400);
    const bad = await t.api("/v1/jobs/batch", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([item, { ...item, options: { nope: 1 } }]) });
    expect(((await expectStatus(bad, 422)).error as { message: string }).message).toContain("item 1");
  });

  test("cancel a queued job, then retry it to completion; cancelling a finished job is 409", async () => {
    await expectStatus(await t.api("/v1/queues/image/pause", { method: "POST" }), 200);
    const job = (await (await upload(corpus("image-webp-lossy.webp").path, "image")).json()) as JobJson;
    const cancelled = (await expectStatus(await t.api(`/v1/jobs/${job.id}`, { method: "DELETE" }), 200)) as JobJson;
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.error!.code).toBe("CANCELLED");
    await expectStatus(await t.api("/v1/queues/image/resume", { method: "POST" }), 200);
    const again = (await expectStatus(await t.api(`/v1/jobs/${job.id}/retry`, { method: "POST" }), 202)) as JobJson;
    expect(again.status).toBe("queued");
    const done = await waitForJob(t, job.id);
    expect(done.status).toBe("completed");
    expect((await t.api(`/v1/jobs/${job.id}`, { method: "DELETE" })).status).toBe(409);
    expect((await t.api(`/v1/jobs/${job.id}/retry`, { method: "POST" })).status).toBe(409);
    const audit = (await (await t.api("/v1/audit")).json()) as { items: { action: string; target: string }[] };
    expect(audit.items.filter((a) => a.target === job.id).map((a) => a.action).sort()).toEqual(["job.cancel", "job.retry"]);
  });

  test("queues report counts; /healthz and /readyz need no token; /docs serves OpenAPI", async () => {
    const q = (await (await t.api("/v1/queues")).json()) as { items: { name: string; completed: number; paused: boolean }[] };
    expect(q.items.map((x) => x.name)).toEqual(["probe", "image", "video", "audio", "thumbnail"]);
    expect(q.items.find((x) => x.name === "image")!.completed).toBeGreaterThan(0);
    expect((await fetch(t.url + "/healthz")).status).toBe(200);
    const ready = (await (await fetch(t.url + "/readyz")).json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(ready.status).toBe("ready");
    expect(Object.keys(ready.checks).sort()).toEqual(["disk", "ffmpeg", "redis", "sqlite"]);
    const docs = await fetch(t.url + "/docs/json");
    expect(docs.status).toBe(200);
    expect(JSON.stringify(await docs.json())).toContain("/v1/jobs");
  });
});

test("admin.token is 0600 and the data dir 0700", async () => {
  const { statSync } = await import("node:fs");
  expect(statSync(join(t.dataDir, "admin.token")).mode & 0o777).toBe(0o600);
  expect(statSync(t.dataDir).mode & 0o777).toBe(0o700);
  writeFileSync(join(t.dataDir, "probe-touch"), "");
});
