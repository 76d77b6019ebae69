import { expect, test } from "bun:test";
import { requestOfMessage } from "../../src/api/jobs/message";
import { bearerToken } from "../../src/api/auth";

const body = (s: string) => new TextEncoder().encode(s);

test("the message id becomes the idempotency key (over one in the body)", () => {
  expect(requestOfMessage({ body: body('{"type":"probe","idempotencyKey":"k"}'), messageId: "m-1" })).toEqual({ type: "probe", idempotencyKey: "m-1" });
  expect(requestOfMessage({ body: body('{"type":"probe","idempotencyKey":"k"}'), messageId: null })).toEqual({ type: "probe", idempotencyKey: "k" });
});

test("a body that is not JSON (or not UTF-8) is a BAD_REQUEST", () => {
  expect(() => requestOfMessage({ body: body("{nope"), messageId: "m" })).toThrow(/not JSON/);
  expect(() => requestOfMessage({ body: new Uint8Array([0x7b, 0xff, 0x7d]), messageId: "m" })).toThrow(/not JSON/);
});

test("a non-object body is passed on as it is, for the request check to refuse", () => {
  expect(requestOfMessage({ body: body("[1]"), messageId: "m" })).toEqual([1]);
});

test("a message id longer than an idempotency key may be is refused", () => {
  expect(() => requestOfMessage({ body: body("{}"), messageId: "x".repeat(201) })).toThrow(/message id/);
});

test.each([
  ["Bearer abc", "abc"],
  ["bearer  abc", "abc"],
  ["Basic abc", null],
  ["Bearer", null],
  [null, null],
])("authorization %p → %p", (h, want) => {
  expect(bearerToken(h)).toBe(want);
});
