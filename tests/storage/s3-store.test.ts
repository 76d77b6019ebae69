// The bucket back-ends against a real S3 server process (s3rver), without a node: an attempt
// is visible only once committed (an aborted or stale one never is), uploads refused while
// streaming leave no object, wrong credentials are STORAGE and not ready, and the data-dir
// copy (`store copy --media-to`) is verified and idempotent.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openBucket, type Bucket } from "../../src/storage/bucket";
import { createS3MediaStore } from "../../src/storage/s3";
import { bucketSink, createBucketFiles } from "../../src/storage/s3-files";
import { copyMediaToBucket } from "../../src/storage/copy-media";
import { streamToSink } from "../../src/sources/upload";
import { createLogger } from "../../src/log";
import { startTestS3, S3_SECRET, type TestS3 } from "../helpers/s3";
import { tempDir } from "../helpers/tmp";
import { runCli } from "../cli/run";

const log = createLogger({ level: "error", format: "json" });
let s3: TestS3;
let dir: ReturnType<typeof tempDir>;

function bucketFor(name: string, o: { key?: string } = {}): Bucket {
  return openBucket({ mediaUrl: `s3://${name}/m`, s3Endpoint: s3.endpoint, s3AccessKeyId: o.key ?? "S3RVER", s3SecretAccessKey: S3_SECRET, s3Region: "us-east-1" })!;
}

/** A body of `n` random MiB, streamed (no length known up front). */
function randomBody(mib: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(ctl) {
      if (i++ >= mib) return ctl.close();
      const chunk = new Uint8Array(1 << 20);
      for (let o = 0; o < chunk.length; o += 65536) crypto.getRandomValues(chunk.subarray(o, o + 65536));
      ctl.enqueue(chunk);
    },
  });
}

beforeAll(async () => {
  s3 = await startTestS3();
  dir = tempDir("mn-s3-store-");
});

afterAll(async () => {
  await s3?.stop();
  dir?.remove();
});

describe("attempts in the bucket", () => {
  test("only a committed attempt is visible: a discarded one and a stale one (staged, never committed) never are", async () => {
    const name = s3.bucket();
    const bucket = bucketFor(name);
    const store = createS3MediaStore({ bucket, dataDir: join(dir.path, "w1"), log });
    const files = createBucketFiles(bucket, join(dir.path, "api"));
    const id = "job1";
    const attempt = async (run: number, n: number, file: string) => {
      const d = await store.prepareAttempt(id, run, n);
      writeFileSync(join(d, file), `bytes of ${file}`);
      await store.stageAttempt!(id, d);
      return d;
    };
    // Aborted: staged, then discarded (a cancel, a timeout, a lost lock).
    const aborted = await attempt(1, 1, "a.txt");
    await store.discardAttempt(aborted);
    await expect(files.locateOutput(id, "a.txt")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await s3.keys(name, "m/job1/attempts/")).toEqual([]);
    // Stale: its worker died after uploading; nothing names it.
    await attempt(1, 2, "b.txt");
    expect((await s3.keys(name, "m/job1/attempts/")).length).toBe(1);
    await expect(files.locateOutput(id, "b.txt")).rejects.toMatchObject({ code: "NOT_FOUND" });
    // The attempt that commits: its file is served, the stale one's objects are removed.
    const good = await attempt(2, 1, "c.txt");
    await store.commitAttempt(id, good);
    const loc = await files.locateOutput(id, "c.txt");
    expect(loc.kind).toBe("redirect");
    const r = await fetch((loc as { url: string }).url);
    expect(await r.text()).toBe("bytes of c.txt");
    await expect(files.locateOutput(id, "b.txt")).rejects.toMatchObject({ code: "NOT_FOUND" });
    const keys = await s3.keys(name, "m/job1/");
    expect(keys.filter((k) => k.includes("/attempts/")).every((k) => k.endsWith("/c.txt"))).toBe(true);
    expect(keys).toContain("m/job1/out.json");
    // removeJob (retention) deletes every object of the job.
    await files.removeJob(id);
    expect(await s3.keys(name, "m/job1/")).toEqual([]);
  });
});

describe("uploads into the bucket", () => {
  test("refused at the cap while streaming (past several parts): no object is left", async () => {
    const name = s3.bucket();
    const bucket = bucketFor(name);
    const key = bucket.key("up1", "source");
    await expect(streamToSink(randomBody(30), bucketSink(bucket, key), 20 * 1024 * 1024)).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(await s3.keys(name)).toEqual([]);
  });

  test("a whole upload is stored with its bytes; memory is in parts, not the file", async () => {
    const name = s3.bucket();
    const bucket = bucketFor(name);
    const key = bucket.key("up2", "source");
    const n = await streamToSink(randomBody(20), bucketSink(bucket, key), 64 * 1024 * 1024);
    expect(n).toBe(20 * 1024 * 1024);
    expect((await bucket.client.stat(key)).size).toBe(n);
  });

  test("wrong credentials: the check is not ok, and an upload fails STORAGE with nothing stored", async () => {
    const name = s3.bucket();
    const bad = bucketFor(name, { key: "NOT-A-KEY" });
    const c = await bad.check();
    expect(c.ok).toBe(false);
    expect(c.detail).toMatch(/InvalidAccessKeyId|AccessDenied|403/);
    expect((await bucketFor(name).check()).ok).toBe(true);
    await expect(streamToSink(randomBody(1), bucketSink(bad, bad.key("x", "source")), 1 << 30)).rejects.toMatchObject({ code: "STORAGE" });
    expect(await s3.keys(name)).toEqual([]);
  });
});

describe("copyMediaToBucket (store copy --media-to)", () => {
  test("copies sources and outputs with checksums verified; a second run copies nothing; outputs keep their names", async () => {
    const name = s3.bucket();
    const bucket = bucketFor(name);
    const data = join(dir.path, "embedded");
    const big = new Uint8Array(9 * 1024 * 1024).map((_, i) => (i * 7) & 255);
    for (const id of ["j1", "j2"]) {
      mkdirSync(join(data, "media", id, "out", "720p"), { recursive: true });
      writeFileSync(join(data, "media", id, "source"), `source of ${id}`);
      writeFileSync(join(data, "media", id, "out", "master.m3u8"), "#EXTM3U\n720p/index.m3u8\n");
      writeFileSync(join(data, "media", id, "out", "720p", "index.m3u8"), "#EXTM3U\nseg_000.ts\n");
      // Past one part: uploaded multipart, verified by reading it back.
      writeFileSync(join(data, "media", id, "out", "720p", "seg_000.ts"), big);
    }
    const localBytes = ["j1", "j2"].flatMap((id) => ["source", "out/master.m3u8", "out/720p/index.m3u8", "out/720p/seg_000.ts"].map((f) => statSync(join(data, "media", id, f)).size)).reduce((a, b) => a + b, 0);
    const first = await copyMediaToBucket(data, bucket);
    expect(first).toEqual({ jobs: 2, files: 8, copied: 8, bytes: localBytes, verified: 8, skipped: 0 });
    const files = createBucketFiles(bucket, join(dir.path, "api2"));
    const seg = await files.locateOutput("j2", "720p/seg_000.ts");
    const got = await (await fetch((seg as { url: string }).url)).bytes();
    expect(Buffer.from(got).equals(Buffer.from(big))).toBe(true);
    expect((await files.locateOutput("j1", "master.m3u8")).kind).toBe("object");
    const second = await copyMediaToBucket(data, bucket);
    expect(second).toEqual({ jobs: 0, files: 8, copied: 0, bytes: 0, verified: 8, skipped: 2 });
    // Only the jobs asked for; a job without a folder has nothing to copy.
    expect(await copyMediaToBucket(data, bucket, { jobIds: ["j2", "no-such-job"] })).toMatchObject({ files: 4, copied: 0, verified: 4, skipped: 1 });
    // An output deleted from the bucket since is copied again, and the job committed afresh.
    await bucket.client.delete(bucket.attemptKey("j2", "copied", "720p/index.m3u8"));
    const healed = await copyMediaToBucket(data, bucket, { jobIds: ["j2"] });
    expect(healed).toMatchObject({ jobs: 1, files: 4, copied: 3, verified: 4 });
    expect((await files.locateOutput("j2", "720p/index.m3u8")).kind).toBe("object");
    // A changed file is copied again (and only that job).
    writeFileSync(join(data, "media", "j1", "out", "master.m3u8"), "#EXTM3U\n#changed\n720p/index.m3u8\n");
    const third = await copyMediaToBucket(data, bucket);
    expect(third.jobs).toBe(1);
    expect(third.skipped).toBe(1);
  });
});

describe("medianode doctor with MEDIANODE_MEDIA_URL", () => {
  test("checks the bucket: ok with the credentials, FAIL and exit 1 with a wrong key", async () => {
    const name = s3.bucket();
    const doctor = async (env: Record<string, string>) => {
      const r = await runCli(["doctor", "--data-dir", join(dir.path, "doctor"), "--port", "0", "--json"], { env });
      const body = JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string }[] };
      return { code: r.code, bucket: body.checks.find((c) => c.name === "bucket") };
    };
    const good = await doctor(s3.env(name));
    expect(good.bucket?.status, JSON.stringify(good)).toBe("ok");
    const bad = await doctor({ ...s3.env(name), AWS_ACCESS_KEY_ID: "NOT-A-KEY" });
    expect(bad.code).toBe(1);
    expect(bad.bucket?.status).toBe("fail");
    expect(bad.bucket?.detail).toMatch(/InvalidAccessKeyId|403/);
  });
});
