// A full disk is STORAGE however it is reported: Node's fs errors carry a code, libvips
// (sharp) only says it in its message. Anything else foreign stays INTERNAL.
import { expect, test } from "bun:test";
import { toMedianodeError } from "../src/errors";

test.each([
  ["an fs error with code ENOSPC", "STORAGE", Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" })],
  ["an fs error with code EDQUOT", "STORAGE", Object.assign(new Error("EDQUOT: disk quota exceeded, write"), { code: "EDQUOT" })],
  ["sharp's write error", "STORAGE", new Error("/data/media/j/out/big.png: write error\nsystem error: No space left on device\nwbuffer_write: write failed")],
  ["any other error", "INTERNAL", new Error("boom")],
  ["a thrown string", "INTERNAL", "boom"],
])("%s → %s", (_what, code, e) => {
  expect(toMedianodeError(e).code as string).toBe(code);
});
