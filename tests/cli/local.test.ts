// Commands that work on the data folder with no server: token, migrate, doctor.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { MIGRATIONS } from "../../migrations/index";
import { verifyToken } from "../../src/services/tokens";
import { openDb } from "../../src/store/db";
import { freePort, startTestRedis } from "../helpers/redis";
import { tempDir } from "../helpers/tmp";
import { expectExit, runCli } from "./run";

let dir: { path: string; remove(): void };
beforeAll(() => {
  dir = tempDir("medianode-cli-");
});
afterAll(() => dir.remove());

describe("migrate", () => {
  test("applies every migration once, then says it is up to date", async () => {
    const first = JSON.parse(expectExit(await runCli(["migrate", "--data-dir", dir.path, "--json"]), 0).stdout) as { applied: number[]; latest: number };
    expect(first.applied).toEqual(MIGRATIONS.map((m) => m.version));
    const again = JSON.parse(expectExit(await runCli(["migrate", "--data-dir", dir.path, "--json"]), 0).stdout) as { applied: number[]; latest: number };
    expect(again.applied).toEqual([]);
    expect(again.latest).toBe(MIGRATIONS.at(-1)!.version);
    expect(expectExit(await runCli(["migrate"], { env: { MEDIANODE_DATA_DIR: dir.path } }), 0).stdout).toContain("up to date");
  });
});

describe("token", () => {
  let created: { id: string; name: string; scopes: string[]; token: string };

  test("create --json prints {id, name, scopes, token} and the token works", async () => {
    const r = expectExit(await runCli(["token", "create", "--name", "ci", "--scopes", "jobs:read,jobs:write", "--data-dir", dir.path, "--json"]), 0);
    created = JSON.parse(r.stdout) as typeof created;
    expect(created).toMatchObject({ name: "ci", scopes: ["jobs:read", "jobs:write"] });
    expect(created.id).toMatch(/^t_/);
    expect(created.token).toMatch(/^mn_t_/);
    const db = openDb(`${dir.path}/medianode.db`);
    try {
      expect(verifyToken(db, created.token)?.scopes).toEqual(["jobs:read", "jobs:write"]);
    } finally {
      db.close();
    }
  });

  test("create without --json prints the token once with a clear line", async () => {
    const r = expectExit(await runCli(["token", "create", "--name", "ops", "--scopes", "admin", "--tenant", "ops-team", "--data-dir", dir.path]), 0);
    expect(r.stdout).toContain("not shown again");
    expect(r.stdout).toMatch(/^mn_t_\S+$/m);
  });

  test("list shows names and scopes, never the token text", async () => {
    const table = expectExit(await runCli(["token", "list", "--data-dir", dir.path]), 0).stdout;
    expect(table).toContain("ci");
    expect(table).toContain("ops-team");
    expect(table).not.toContain(created.token.split(".")[1]!);
    const list = JSON.parse(expectExit(await runCli(["token", "list", "--data-dir", dir.path, "--json"]), 0).stdout) as { id: string; name: string; revoked: boolean }[];
    expect(list.map((t) => t.name)).toEqual(["ci", "ops"]);
    expect(list.every((t) => !t.revoked)).toBe(true);
    expect(JSON.stringify(list)).not.toContain(created.token);
  });

  test("revoke takes effect; an unknown id exits 1", async () => {
    expect(expectExit(await runCli(["token", "revoke", created.id, "--data-dir", dir.path]), 0).stdout).toContain(`revoked ${created.id}`);
    const list = JSON.parse(expectExit(await runCli(["token", "list", "--data-dir", dir.path, "--json"]), 0).stdout) as { id: string; revoked: boolean }[];
    expect(list.find((t) => t.id === created.id)!.revoked).toBe(true);
    const db = openDb(`${dir.path}/medianode.db`);
    try {
      expect(verifyToken(db, created.token)).toBeNull();
    } finally {
      db.close();
    }
    const other = JSON.parse(expectExit(await runCli(["token", "create", "--name", "tmp", "--data-dir", dir.path, "--json"]), 0).stdout) as typeof created;
    expect(expectExit(await runCli(["token", "revoke", other.token, "--data-dir", dir.path]), 0).stdout).toContain(`revoked ${other.id}`);
    const missing = expectExit(await runCli(["token", "revoke", "t_00000000000000000000000000", "--data-dir", dir.path]), 1);
    expect(missing.stderr).toContain("NOT_FOUND");
  });

  test("an unknown scope is a usage error (2) naming the scopes", async () => {
    const r = expectExit(await runCli(["token", "create", "--name", "x", "--scopes", "root", "--data-dir", dir.path]), 2);
    expect(r.stderr).toContain('unknown scope "root"');
    expect(r.stderr).toContain("jobs:write");
  });
});

describe("doctor", () => {
  test("passes on this machine, one ok line per check", async () => {
    const port = await freePort();
    const r = expectExit(await runCli(["doctor", "--data-dir", dir.path, "--port", String(port)]), 0);
    for (const name of ["ffmpeg", "ffprobe", "redis", "sqlite", "data dir", "disk", "port"]) expect(r.stdout).toMatch(new RegExp(`^(ok|WARN) +${name} `, "m"));
    expect(r.stdout).toContain("/usr/bin/ffmpeg");
    // Whether this node decodes HEIC photos (libheif-examples is installed by scripts/setup.sh).
    expect(r.stdout).toMatch(/^ok +heic +\S*heif-convert: HEIC\/HEIF photos decode here/m);
  });

  test("--json: checks with status, and FAIL + exit 1 when the port is taken by something else", async () => {
    const other = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("not medianode") });
    try {
      const r = expectExit(await runCli(["doctor", "--data-dir", dir.path, "--port", String(other.port), "--json"]), 1);
      const body = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; status: string; detail: string; hint?: string }[] };
      expect(body.ok).toBe(false);
      const port = body.checks.find((c) => c.name === "port")!;
      expect(port.status).toBe("fail");
      expect(port.hint).toContain("--port");
      expect(body.checks.find((c) => c.name === "ffmpeg")!.status).toBe("ok");
    } finally {
      other.stop(true);
    }
  });

  const bundled = new URL("../../node_modules/@ffmpeg-installer/linux-x64/ffmpeg", import.meta.url).pathname;
  test.skipIf(!existsSync(bundled))("the bundled 2018 @ffmpeg-installer build is flagged: FAIL with the apt hint, exit 1", async () => {
    const r = expectExit(await runCli(["doctor", "--data-dir", dir.path, "--port", "0"], { env: { MEDIANODE_FFMPEG_PATH: bundled } }), 1);
    expect(r.stdout).toMatch(/^FAIL +ffmpeg +.*bundled 2018 build.*apt-get install -y ffmpeg/m);
  });

  test("a REDIS_URL that does not answer fails with a hint", async () => {
    const port = await freePort();
    const r = expectExit(await runCli(["doctor", "--data-dir", dir.path, "--port", "0", "--json"], { env: { REDIS_URL: `redis://127.0.0.1:${port}` } }), 1);
    const redis = (JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks.find((c) => c.name === "redis")!;
    expect(redis.status).toBe("fail");
    expect(redis.detail).toContain("unreachable");
  });

  test("a REDIS_URL that may evict keys fails loudly (BullMQ would lose jobs silently): exit 1", async () => {
    const evicting = await startTestRedis(["--maxmemory-policy", "allkeys-lru"]);
    try {
      const r = expectExit(await runCli(["doctor", "--data-dir", dir.path, "--port", "0", "--json"], { env: { REDIS_URL: evicting.url } }), 1);
      const redis = (JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string; hint?: string }[] }).checks.find((c) => c.name === "redis")!;
      expect(redis.status).toBe("fail");
      expect(redis.detail).toContain("maxmemory-policy is allkeys-lru");
      expect(redis.hint).toContain("noeviction");
    } finally {
      await evicting.stop();
    }
  });
});
