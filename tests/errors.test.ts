// A full disk is STORAGE however it is reported: Node's fs errors carry a code, libvips
// (sharp) only says it in its message. Anything else foreign stays INTERNAL.
import { expect, test } from "bun:test";
import { toMedianodeError } from "../src/errors";

test.each([
  ["an fs error with code ENOSPC", Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }), "STORAGE"],
  ["an fs error with code EDQUOT", Object.assign(new Error("EDQUOT: disk quota exceeded, write"), { code: "EDQUOT" }), "STORAGE"],
  ["sharp's write error", new Error("/data/media/j/out/big.png: write error\nsystem error: No space left on device\nwbuffer_write: write failed"), "STORAGE"],
  ["any other error", new Error("boom"), "INTERNAL"],
  ["a thrown string", "boom", "INTERNAL"],
])("%s → %s", (_what, e, code) => {
  expect(toMedianodeError(e).code as string).toBe(code);
});
