// The core API and reliability tests on PostgreSQL (SPEC §11): the same files the suite runs on
// SQLite, run again in a child `bun test` with MEDIANODE_TEST_ENGINE=postgres, so that every
// node they start keeps its records in a database of its own (tests/helpers/server.ts).
import { expect, test } from "bun:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CORE_FILES = [
  "tests/api/jobs.test.ts",
  "tests/events/webhooks.test.ts",
  "tests/events/ws.test.ts",
  "tests/security/auth.test.ts",
  "tests/security/audit.test.ts",
  "tests/security/webhook-secrets.test.ts",
  "tests/security/webhook-breaker.test.ts",
  "tests/security/ws-limits.test.ts",
  "tests/events/notifications/email.test.ts",
  "tests/events/notifications/webpush.test.ts",
  "tests/storage/remote.test.ts",
  "tests/e2e/restart.test.ts",
];

test(
  "the core API and reliability tests pass with the records in PostgreSQL",
  async () => {
    const child = Bun.spawn([process.execPath, "test", "--timeout", "120000", ...CORE_FILES], {
      cwd: ROOT,
      env: { ...process.env, MEDIANODE_TEST_ENGINE: "postgres" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    const report = (out + err).split("\n");
    const failed = report.filter((l) => l.startsWith("(fail)"));
    if (code !== 0) console.error(report.slice(-60).join("\n"));
    expect(failed).toEqual([]);
    expect(code).toBe(0);
    // The child really ran them (a wrong path would pass with nothing run).
    expect(report.some((l) => /^\s*\d+ pass/.test(l) && Number(/(\d+) pass/.exec(l)![1]) >= CORE_FILES.length)).toBe(true);
  },
  540_000,
);
