// migrate, token and doctor with DATABASE_URL: the same commands on PostgreSQL (SPEC §11).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { POSTGRES_MIGRATIONS } from "../../migrations/postgres/index";
import { verifyToken } from "../../src/services/tokens";
import { openPostgres } from "../../src/store/postgres/index";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres";
import { tempDir } from "../helpers/tmp";
import { expectExit, runCli } from "./run";

let database: TestDatabase;
let dir: ReturnType<typeof tempDir>;
let env: Record<string, string>;
beforeAll(async () => {
  database = await createTestDatabase();
  dir = tempDir("medianode-cli-pg-");
  env = { DATABASE_URL: database.url, MEDIANODE_DATA_DIR: dir.path };
});
afterAll(async () => {
  await database.drop();
  dir.remove();
});

test("migrate applies every PostgreSQL migration once, names the engine and the database, then is up to date", async () => {
  const first = JSON.parse(expectExit(await runCli(["migrate", "--json"], { env }), 0).stdout) as { engine: string; database: string; applied: number[]; latest: number };
  expect(first).toMatchObject({ engine: "postgres", applied: POSTGRES_MIGRATIONS.map((m) => m.version), latest: POSTGRES_MIGRATIONS.at(-1)!.version });
  expect(first.database).toContain(database.name);
  expect(expectExit(await runCli(["migrate"], { env }), 0).stdout).toContain("up to date");
});

test("token create/revoke work on PostgreSQL; nothing is written to the data dir's SQLite", async () => {
  const created = JSON.parse(expectExit(await runCli(["token", "create", "--name", "ci", "--json"], { env }), 0).stdout) as { id: string; token: string };
  const records = await openPostgres(database.url);
  try {
    expect((await verifyToken(records, created.token))?.name).toBe("ci");
    expectExit(await runCli(["token", "revoke", created.id], { env }), 0);
    expect(await verifyToken(records, created.token)).toBeNull();
  } finally {
    await records.close();
  }
  expect(await Bun.file(`${dir.path}/medianode.db`).exists()).toBe(false);
});

test("a DATABASE_URL that is not postgres:// stops with its variable named (exit 2); an unreachable one fails doctor and migrate", async () => {
  const bad = await runCli(["migrate"], { env: { ...env, DATABASE_URL: "mysql://x@127.0.0.1/db" } });
  expect(bad.code).toBe(2);
  expect(bad.stderr + bad.stdout).toContain("DATABASE_URL");
  const down = { ...env, DATABASE_URL: "postgres://postgres@127.0.0.1:1/nothing" };
  const doctor = JSON.parse((await runCli(["doctor", "--json"], { env: down })).stdout) as { checks: { name: string; status: string }[] };
  expect(doctor.checks.find((c) => c.name === "postgres")?.status).toBe("fail");
  const m = await runCli(["migrate"], { env: down });
  expect(m.code).not.toBe(0);
  expect(m.stderr + m.stdout).toContain("cannot reach PostgreSQL");
});
