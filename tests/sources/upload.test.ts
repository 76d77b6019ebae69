import { afterAll, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { PayloadTooLargeError } from "../../src/errors";
import { streamToFile } from "../../src/sources/upload";
import { tempDir } from "../helpers/tmp";

const tmp = tempDir("mn-upload-");
afterAll(() => tmp.remove());

/** A body that arrives in uneven chunks, as a socket delivers it; `pulled` counts chunks read. */
function body(data: Uint8Array, chunk: (i: number) => number): { stream: ReadableStream<Uint8Array>; pulled: () => number; cancelled: () => boolean } {
  let off = 0;
  let i = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (off >= data.length) return c.close();
      const n = Math.min(chunk(i++), data.length - off);
      c.enqueue(data.slice(off, off + n));
      off += n;
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, pulled: () => i, cancelled: () => cancelled };
}

test("a body of many uneven chunks, larger than the sink's buffer, lands byte for byte in a 0600 file", async () => {
  const data = new Uint8Array(randomBytes(3 * 1024 * 1024 + 12345));
  const path = join(tmp.path, "a", "source");
  const b = body(data, (i) => [21_504, 98_304, 524_288, 7][i % 4]!);
  expect(await streamToFile(b.stream, path, 10 * 1024 * 1024)).toBe(data.length);
  expect(b.pulled()).toBeGreaterThan(10);
  expect(Buffer.compare(readFileSync(path), Buffer.from(data))).toBe(0);
  expect(statSync(path).mode & 0o777).toBe(0o600);
});

test("over the cap: 413 while streaming, the rest is never read", async () => {
  const data = new Uint8Array(randomBytes(2 * 1024 * 1024));
  const b = body(data, () => 64 * 1024);
  const path = join(tmp.path, "b", "source");
  const err = await streamToFile(b.stream, path, 256 * 1024).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PayloadTooLargeError);
  expect(b.cancelled()).toBe(true);
  // 256 KiB is 4 chunks; the fifth crosses the cap and nothing after it is pulled.
  expect(b.pulled()).toBeLessThanOrEqual(6);
});

test("an empty body makes an empty file", async () => {
  const path = join(tmp.path, "c", "source");
  expect(await streamToFile(body(new Uint8Array(0), () => 1).stream, path, 100)).toBe(0);
  expect(statSync(path).size).toBe(0);
});
