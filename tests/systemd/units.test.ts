import { expect, test } from "bun:test";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_KEYS, defaultConfig } from "../../src/config/schema";
import { tempDir } from "../helpers/tmp";

const units = ["medianode.service", "medianode-worker.service"];
const src = join(import.meta.dir, "../../systemd");

/** The unit files with ExecStart pointed at a binary that exists here, verified by systemd. */
function verify(dir: string, files: string[]) {
  const bin = join(dir, "medianode");
  writeFileSync(bin, "#!/bin/sh\n", { mode: 0o755 });
  for (const f of files) writeFileSync(join(dir, f), readFileSync(join(dir, f), "utf8").replaceAll("/usr/local/bin/medianode", bin));
  const r = Bun.spawnSync(["systemd-analyze", "verify", ...files.map((f) => join(dir, f))], { env: { ...process.env, SYSTEMD_LOG_LEVEL: "warning" }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stderr.toString() + r.stdout.toString() };
}

test("systemd-analyze verify passes on both units", () => {
  const dir = tempDir();
  for (const u of units) copyFileSync(join(src, u), join(dir.path, u));
  const r = verify(dir.path, units);
  expect(r.out).toBe("");
  expect(r.code).toBe(0);
  dir.remove();
});

test("the units are hardened, restart on failure and stop gracefully", () => {
  for (const u of units) {
    const text = readFileSync(join(src, u), "utf8");
    for (const line of ["NoNewPrivileges=true", "ProtectSystem=strict", "PrivateTmp=true", "ReadWritePaths=/var/lib/medianode", "Restart=on-failure", "KillSignal=SIGTERM", "User=medianode", "EnvironmentFile=-/etc/medianode/"]) {
      expect(text).toContain(line);
    }
    // Longer than the default grace for running jobs plus the ~10 s hand-back and close.
    expect(Number(/TimeoutStopSec=(\d+)/.exec(text)![1])).toBeGreaterThan(defaultConfig(2).shutdownGraceSec + 10);
  }
});

test("a broken unit fails verification (the check can fail)", () => {
  const dir = tempDir();
  writeFileSync(join(dir.path, "broken.service"), "[Service]\nExecStart=relative/path\nRestart=sometimes\n");
  const r = verify(dir.path, ["broken.service"]);
  expect(r.code).not.toBe(0);
  dir.remove();
});

/** systemd-analyze's exposure figure for a unit file (0 best, 10 worst). */
function exposure(file: string): { score: number; out: string } {
  const r = Bun.spawnSync(["systemd-analyze", "security", "--offline=yes", "--no-pager", file], { env: { ...process.env, SYSTEMD_LOG_LEVEL: "err", SYSTEMD_COLORS: "0" }, stdout: "pipe", stderr: "pipe" });
  const out = r.stdout.toString() + r.stderr.toString();
  const m = /Overall exposure level for \S+: (\d+\.\d+) (\S+)/.exec(out);
  if (!m) throw new Error(`no exposure figure from systemd-analyze security: ${out.slice(-2000)}`);
  return { score: Number(m[1]), out: `${m[1]} ${m[2]}` };
}

test.each(units)("systemd-analyze security --offline=yes scores %s OK or better (at most 4.0)", (u) => {
  const r = exposure(join(src, u));
  console.log(`systemd-analyze security ${u}: ${r.out}`);
  expect(r.score).toBeLessThanOrEqual(4.0);
});

test("the figure moves: a unit without the sandbox scores worse than 4.0 (the check can fail)", () => {
  const dir = tempDir();
  writeFileSync(join(dir.path, "bare.service"), "[Service]\nExecStart=/bin/true\n");
  expect(exposure(join(dir.path, "bare.service")).score).toBeGreaterThan(4.0);
  dir.remove();
});

test("what is left out is said, and why (Bun's JIT needs W+X memory)", () => {
  for (const u of units) {
    const text = readFileSync(join(src, u), "utf8");
    for (const line of ["CapabilityBoundingSet=\n", "SystemCallFilter=@system-service", "SystemCallArchitectures=native", "RestrictNamespaces=true", "RestrictRealtime=true", "ProtectKernelLogs=true", "ProtectClock=true", "ProtectHostname=true", "UMask=0077", "LockPersonality=true"]) {
      expect(text).toContain(line);
    }
    expect(text).not.toMatch(/^MemoryDenyWriteExecute=/m);
    expect(text).toMatch(/# - MemoryDenyWriteExecute=true: Bun's JavaScriptCore JIT/);
  }
});

test("systemd/medianode.env.example names only real configuration variables", () => {
  const text = readFileSync(join(src, "medianode.env.example"), "utf8");
  const vars = [...text.matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  expect(vars.length).toBeGreaterThan(5);
  const known = new Set<string>(Object.values(CONFIG_KEYS).map((k) => k.env));
  expect(vars.filter((v) => !known.has(v))).toEqual([]);
});
