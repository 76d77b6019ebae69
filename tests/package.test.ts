// Housekeeping a packager checks (issue 11, point 7): licence, dependency kinds, and the
// README's npm scripts working where Bun exists only in node_modules.
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  license?: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
};

test("a LICENSE file and the matching package.json license field", () => {
  expect(pkg.license).toBe("MIT");
  expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toStartWith("MIT License");
});

test("type packages are dev-only; the 2018 ffmpeg build is only an optional fallback", () => {
  expect(Object.keys(pkg.dependencies).filter((d) => d.startsWith("@types/"))).toEqual([]);
  expect(pkg.dependencies["@ffmpeg-installer/ffmpeg"]).toBeUndefined();
  expect(pkg.optionalDependencies?.["@ffmpeg-installer/ffmpeg"]).toBeDefined();
  expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain("Debian's ffmpeg");
});

test("every npm script that runs Bun runs node_modules/.bin/bun", () => {
  for (const [name, cmd] of Object.entries(pkg.scripts)) {
    if (/\bbun\b/.test(cmd)) expect(`${name}: ${cmd}`).toMatch(/^[^:]+: (.*&& )?(exec )?node_modules\/\.bin\/bun /);
  }
});

test("`npm run bench -- NAME` reaches bench/run.ts with its arguments, with no bun on PATH", () => {
  // An unknown name is refused by bench/run.ts itself (exit 2): proof the script and its
  // arguments arrived, without running a benchmark.
  const npm = Bun.which("npm");
  expect(npm).not.toBeNull();
  const path = (process.env.PATH ?? "").split(":").filter((d) => !existsSync(join(d, "bun"))).join(":");
  const r = Bun.spawnSync([npm!, "run", "--silent", "bench", "--", "no-such-bench"], { cwd: ROOT, env: { ...process.env, PATH: path }, stdout: "pipe", stderr: "pipe" });
  expect(r.stderr.toString()).toContain('unknown benchmark "no-such-bench"');
  expect(r.exitCode).toBe(2);
});
