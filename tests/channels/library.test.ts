// The ADTS cache name (pure): one file per output name and commit.
import { expect, test } from "bun:test";
import { adtsCacheName } from "../../src/channels/library";

test.each([
  ["audio-128k.m4a", { size: 1000, mtimeMs: 1700000000123.4 }, "audio-128k.m4a.1000-1700000000123.aac"],
  // A nested name stays one file in the job's cache folder; `..` cannot climb out of it.
  ["renditions/aac 128.m4a", { size: 5, mtimeMs: 1 }, "renditions%2Faac%20128.m4a.5-1.aac"],
  ["../x.m4a", { size: 5, mtimeMs: 1 }, "..%2Fx.m4a.5-1.aac"],
])("adtsCacheName(%p)", (name, stat, want) => {
  expect(adtsCacheName(name, stat)).toBe(want);
});

test("a rerun's commit (new size or mtime) gets a new name", () => {
  const a = adtsCacheName("a.m4a", { size: 10, mtimeMs: 1000 });
  expect(adtsCacheName("a.m4a", { size: 10, mtimeMs: 2000 })).not.toBe(a);
  expect(adtsCacheName("a.m4a", { size: 11, mtimeMs: 1000 })).not.toBe(a);
  expect(adtsCacheName("a.m4a", { size: 10, mtimeMs: 1000 })).toBe(a);
});
