// Queue naming is the one function every lookup uses (submit, reconcile, cancel, counts).
import { expect, test } from "bun:test";
import { parseQueueName, queueName } from "../../src/queue/names";

test.each([
  ["video", [], "jobs-video"],
  ["video", ["libsvtav1"], "jobs-video@libsvtav1"],
  ["image", ["gpu", "fast-disk"], "jobs-image@fast-disk,gpu"],
  ["image", ["gpu", "fast-disk", "gpu"], "jobs-image@fast-disk,gpu"],
  ["audio", ["h264_nvenc", "libvpx-vp9"], "jobs-audio@h264_nvenc,libvpx-vp9"],
] as const)("queueName(%p, %j) = %p, and parses back", (type, require, name) => {
  expect(queueName(type, require)).toBe(name);
  expect(parseQueueName(name)).toEqual({ type, require: [...new Set(require)].sort() });
});

test("a requirement's order does not change its queue; BullMQ's forbidden ':' never appears", () => {
  expect(queueName("video", ["b", "a"])).toBe(queueName("video", ["a", "b"]));
  expect(queueName("video", ["a", "b"])).not.toContain(":");
});

test.each(["jobs-nope", "jobs-video@", "jobs-video@b,a", "jobs-video@a,,b", "jobs-video@a,a", "queue-video", "jobs-video@A"])("%p is not a name queueName makes", (name) => {
  expect(parseQueueName(name)).toBeNull();
});
