// A real S3 server process for tests: the `s3rver` package (a small S3 HTTP implementation that
// Bun's client speaks to) run from its own bin (made read-after-write consistent) on a free port, its files in a temp dir. Each
// test makes its own bucket. down() SIGKILLs the process and up() starts it again on the same
// port and folder: "the bucket is unreachable" and "it is back".
import { S3Client } from "bun";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { dieWithParent } from "../../src/process";
import { freePort } from "./redis";
import { tempDir } from "./tmp";

/** s3rver's one account (it checks the access key id; it does not verify V4 signatures). */
export const S3_KEY = "S3RVER";
export const S3_SECRET = "S3RVER";
/** s3rver's CLI, behind a fix that makes it read-after-write consistent as S3 is (see the file). */
const BIN = join(import.meta.dir, "s3rver-consistent.cjs");

export interface TestS3 {
  endpoint: string;
  port: number;
  /** Makes a fresh bucket and returns its name. */
  bucket(): string;
  /** A client of `bucket` with the server's credentials. */
  client(bucket: string): S3Client;
  /** Every key in `bucket` (or under `prefix`), sorted. */
  keys(bucket: string, prefix?: string): Promise<string[]>;
  /** The env that points a node at `bucket` (MEDIANODE_MEDIA_URL and the credentials). */
  env(bucket: string, prefix?: string): Record<string, string>;
  /** Kills the server: the bucket is unreachable until up(). */
  down(): Promise<void>;
  /** Starts it again on the same port and folder. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

let seq = 0;

export async function startTestS3(): Promise<TestS3> {
  const dir = tempDir("medianode-s3-");
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let proc: ReturnType<typeof Bun.spawn> | null = null;
  const up = async () => {
    if (proc) return;
    for (let tries = 0; ; tries++) {
      // Dies with the test or benchmark that started it, even one that crashed before stop().
      const p = Bun.spawn(dieWithParent([process.execPath, BIN, "-d", dir.path, "-a", "127.0.0.1", "-p", String(port), "-s"], "TERM"), { stdout: "ignore", stderr: "pipe", stdin: "ignore" });
      for (let i = 0; i < 100 && p.exitCode === null; i++) {
        const ok = await fetch(endpoint, { signal: AbortSignal.timeout(500) }).then(
          () => true,
          () => false,
        );
        if (ok) {
          proc = p;
          return;
        }
        await Bun.sleep(50);
      }
      p.kill("SIGKILL");
      const err = await new Response(p.stderr as ReadableStream).text();
      if (tries >= 20) throw new Error(`s3rver did not start on ${port}: ${err}`);
      // The port may still be held a moment after the last kill.
      await Bun.sleep(250);
    }
  };
  await up();
  const client = (bucket: string) => new S3Client({ endpoint, bucket, accessKeyId: S3_KEY, secretAccessKey: S3_SECRET, region: "us-east-1" });
  return {
    endpoint,
    port,
    bucket() {
      const name = `test-${process.pid}-${++seq}-${Date.now().toString(36)}`;
      // s3rver's filesystem store: a folder is a bucket.
      mkdirSync(join(dir.path, name), { recursive: true });
      return name;
    },
    client,
    async keys(bucket, prefix = "") {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await client(bucket).list({ prefix, ...(token ? { continuationToken: token } : {}) });
        out.push(...(page.contents ?? []).map((c) => c.key));
        token = page.isTruncated ? page.nextContinuationToken : undefined;
      } while (token);
      return out.sort();
    },
    env: (bucket, prefix = "media") => ({
      MEDIANODE_MEDIA_URL: `s3://${bucket}/${prefix}`,
      MEDIANODE_S3_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: S3_KEY,
      AWS_SECRET_ACCESS_KEY: S3_SECRET,
    }),
    async down() {
      const p = proc;
      proc = null;
      if (!p) return;
      p.kill("SIGKILL");
      await p.exited;
    },
    up,
    async stop() {
      const p = proc;
      proc = null;
      p?.kill("SIGKILL");
      await p?.exited;
      dir.remove();
    },
  };
}
