// A located output's bytes, from a file and from an object location (the shape the bucket's
// locateOutput returns with read: true), read in pieces; the copy for ffmpeg goes away on release.
import { afterAll, expect, test } from "bun:test";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { OutputLocation } from "../../src/storage/media-files";
import { outputAsFile, outputStat, readOutput } from "../../src/storage/output-bytes";
import { tempDir } from "../helpers/tmp";

const dir = tempDir();
afterAll(() => dir.remove());

/** 9 MiB + 3 bytes: more than two 4 MiB pieces, the last one short. */
const bytes = Uint8Array.from({ length: 9 * 1024 * 1024 + 3 }, (_, i) => (i * 31) & 0xff);
const reads: [number, number][] = [];
const object: OutputLocation = {
  kind: "object",
  stat: { size: bytes.length, mtimeMs: 1234 },
  read: async (start, end) => (reads.push([start, end]), bytes.slice(start, end + 1)),
};

test("a file: read, stat and used in place", async () => {
  const path = join(dir.path, "a.bin");
  writeFileSync(path, bytes.subarray(0, 1000));
  const loc: OutputLocation = { kind: "file", path };
  expect(await readOutput(loc)).toEqual(bytes.subarray(0, 1000));
  expect(outputStat(loc)).toEqual({ size: 1000, mtimeMs: statSync(path).mtimeMs });
  const f = await outputAsFile(loc, join(dir.path, "tmp"), "a");
  expect(f.path).toBe(path);
  await f.release();
  expect(existsSync(path)).toBe(true);
});

test("an object: read whole, stat from its commit", async () => {
  expect(await readOutput(object)).toEqual(bytes);
  expect(outputStat(object)).toEqual({ size: bytes.length, mtimeMs: 1234 });
  const empty: OutputLocation = { kind: "object", stat: { size: 0, mtimeMs: 1 }, read: async () => Promise.reject(new Error("no bytes to read")) };
  expect((await readOutput(empty)).length).toBe(0);
});

test("an object copied to a private file in pieces, removed on release", async () => {
  reads.length = 0;
  const tmp = join(dir.path, "cache");
  const f = await outputAsFile(object, tmp, "b.m4a");
  expect(new Uint8Array(await Bun.file(f.path).arrayBuffer())).toEqual(bytes);
  expect(reads).toEqual([
    [0, 4 * 1024 * 1024 - 1],
    [4 * 1024 * 1024, 8 * 1024 * 1024 - 1],
    [8 * 1024 * 1024, bytes.length - 1],
  ]);
  expect(statSync(tmp).mode & 0o777).toBe(0o700);
  expect(statSync(f.path).mode & 0o777).toBe(0o600);
  await f.release();
  expect(readdirSync(tmp)).toEqual([]);
});

test("a failed read leaves no partial copy; a redirect is refused", async () => {
  const tmp = join(dir.path, "fail");
  const broken: OutputLocation = { kind: "object", stat: { size: 10, mtimeMs: 1 }, read: async () => Promise.reject(new Error("bucket unreachable")) };
  await expect(outputAsFile(broken, tmp, "c")).rejects.toThrow("bucket unreachable");
  expect(readdirSync(tmp)).toEqual([]);
  const redirect: OutputLocation = { kind: "redirect", url: "http://127.0.0.1:1/x", expiresInSec: 60 };
  await expect(readOutput(redirect)).rejects.toMatchObject({ code: "STORAGE" });
});
