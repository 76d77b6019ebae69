import { expect, test } from "bun:test";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultConfig } from "../../src/config/schema";
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
