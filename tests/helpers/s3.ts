// A real S3 server for tests: the `s3rver` package (a small S3 HTTP implementation that Bun's
// client speaks to) on a free port, with its files in a temp dir. Each test makes its own
// bucket. stop() and restart() on the same port and folder play "the bucket is down/back".
import S3rver from "s3rver";
import { S3Client } from "bun";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./tmp";

/** s3rver's one account (it checks the access key id; it does not verify V4 signatures). */
export const S3_KEY = "S3RVER";
export const S3_SECRET = "S3RVER";

export interface TestS3 {
  endpoint: string;
  port: number;
  /** Makes a fresh bucket and returns its name. */
  bucket(): string;
  /** A client of `bucket` with the server's credentials. */
  client(bucket: string): S3Client;
  /** Every key in `bucket` (or under `prefix`). */
  keys(bucket: string, prefix?: string): Promise<string[]>;
  /** The env that points a node at `bucket` (MEDIANODE_MEDIA_URL and the credentials). */
  env(bucket: string, prefix?: string): Record<string, string>;
  /** Stops the server (the bucket is unreachable until restart()). */
  down(): Promise<void>;
  /** Starts it again on the same port and folder. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

let seq = 0;

export async function startTestS3(): Promise<TestS3> {
  const dir = tempDir("medianode-s3-");
  let server: S3rver | null = null;
  let port = 0;
  const run = async () => {
    const s = new S3rver({ address: "127.0.0.1", port, silent: true, directory: dir.path, resetOnClose: false });
    const info = (await s.run()) as unknown as { port: number };
    port = info.port;
    server = s;
  };
  await run();
  const endpoint = `http://127.0.0.1:${port}`;
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
      await server?.close();
      server = null;
    },
    up: run,
    async stop() {
      await server?.close();
      server = null;
      dir.remove();
    },
  };
}
