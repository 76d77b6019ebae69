// No test, helper, benchmark, script or source file may read outside the repository or name
// one machine's absolute path: CI runs on a clean clone with nothing beside it (issue 11).
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { findOutsideRefs } from "./helpers/outside-refs";

const ROOT = join(import.meta.dir, "..");
const SCANNED = ["tests", "bench", "scripts", "src", "cli", ".ci", "migrations", "systemd"];
/** Media data (the corpus) and generated results are not code; this file's examples below are bad on purpose. */
const SKIPPED = ["tests/corpus/", "bench/results/", "tests/self-contained.test.ts/"];
const TEXT = /\.(ts|js|mjs|sh|json|toml|sql|service|html|css|example)$|^run$/;

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const rel = relative(ROOT, p);
    if (SKIPPED.some((s) => (rel + "/").startsWith(s))) continue;
    if (e.isDirectory()) yield* files(p);
    else if (TEXT.test(e.name)) yield rel;
  }
}

test("no file under tests/, bench/, scripts/, src/, cli/ refers outside the repository", () => {
  const found: string[] = [];
  let scanned = 0;
  for (const top of [...SCANNED.map((d) => join(ROOT, d))]) {
    for (const f of files(top)) {
      scanned++;
      for (const r of findOutsideRefs(ROOT, f, readFileSync(join(ROOT, f), "utf8"))) found.push(`${f}:${r.line}: ${r.why}: ${r.text}`);
    }
  }
  for (const f of ["package.json", "bunfig.toml", "tsconfig.json"]) for (const r of findOutsideRefs(ROOT, f, readFileSync(join(ROOT, f), "utf8"))) found.push(`${f}:${r.line}: ${r.why}`);
  expect(scanned).toBeGreaterThan(100);
  expect(found).toEqual([]);
});

// The bad samples are written with placeholders ({UP} = "..", {SHARED}, {WORK}, {HOME}) and
// filled in at run time, so this file does not itself name an outside path to a text scan.
const fill = (line: string) => line.replaceAll("{UP}", "..").replaceAll("{SHARED}", "sha" + "red").replaceAll("{WORK}", "wo" + "rk").replaceAll("{HOME}", "ho" + "me").replaceAll("{ROOT}", "ro" + "ot");
test.each([
  ["tests/x.test.ts", `const spec = readFileSync(new URL("{UP}/{UP}/{SHARED}/SPEC.md", import.meta.url), "utf8");`],
  ["tests/helpers/media.ts", `export const DIR = "/{WORK}/corpus";`],
  ["bench/video.ts", `const f = join("/{HOME}/alice/media", "a.mp4");`],
  ["tests/e2e/x.test.ts", `const m = join(import.meta.dir, "..", "..", "..", "corpus");`],
  ["scripts/setup.sh", `cp {UP}/{UP}/{UP}/{SHARED}/x .`],
  ["tests/root.test.ts", "const p = `/{ROOT}/.cache/x`;"],
])("the check finds %s's reference outside (it can fail)", (file, line) => {
  expect(findOutsideRefs(ROOT, file, fill(line)).length).toBeGreaterThan(0);
});

test.each([
  ["tests/x.test.ts", `import { x } from "../src/x";`],
  ["tests/helpers/corpus.ts", `new URL("../corpus/", import.meta.url)`],
  ["tests/e2e/x.test.ts", `join(import.meta.dir, "..", "..", "systemd")`],
  ["tests/dashboard/x.test.ts", `executablePath: "/usr/bin/chromium"`],
  ["src/x.ts", `// the worker's /v1/worker/hello route`],
])("and lets %s's in-repo or system reference be", (file, line) => {
  expect(findOutsideRefs(ROOT, file, line)).toEqual([]);
});
