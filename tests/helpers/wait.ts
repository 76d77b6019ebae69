import { expect } from "bun:test";

/** Polls `cond` until it holds or `ms` pass, then asserts it (so a timeout fails with the condition's value). */
export async function until(cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; !(await cond()) && Date.now() < end; ) await Bun.sleep(25);
  expect(await cond()).toBe(true);
}
