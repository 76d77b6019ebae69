// The pure parts of queue positions (services/positions.ts).
import { expect, test } from "bun:test";
import { announcePosition, positionsFrom } from "../../src/services/positions";

const a = "j_01m8aaaaaaaaaaaaaaaaaaaaaa";
const b = "j_01m8bbbbbbbbbbbbbbbbbbbbbb";
const c = "j_01m8cccccccccccccccccccccc";

test("positions follow the order workers take jobs in, 1 = next; foreign ids are skipped, a job counts once", () => {
  const p = positionsFrom([`${b}-r1`, "not-a-job", `${a}-r2`, `${a}-r2`, `${c}-r1`]);
  expect([...p]).toEqual([
    [b, 1],
    [a, 2],
    [c, 3],
  ]);
  expect(positionsFrom([]).size).toBe(0);
});

test.each([
  [1, true],
  [57, true],
  [100, true],
  [101, false],
  [199, false],
  [200, true],
  [9900, true],
  [9901, false],
])("a change to position %i is announced: %p", (position, announced) => {
  expect(announcePosition(position)).toBe(announced);
});
