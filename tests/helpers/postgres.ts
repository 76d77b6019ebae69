// A PostgreSQL database of a test's own on the machine's server (127.0.0.1:5432, trust auth,
// user postgres; CI runs the same): created for the test, dropped (with its connections) after.
import { SQL } from "bun";

export const POSTGRES_ADMIN_URL = process.env.MEDIANODE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `mn_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new SQL(POSTGRES_ADMIN_URL, { max: 1 });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  const u = new URL(POSTGRES_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    async drop() {
      const a = new SQL(POSTGRES_ADMIN_URL, { max: 1 });
      try {
        await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.close();
      }
    },
  };
}

/** The engines a test suite runs on: both by default; MEDIANODE_TEST_ENGINES=sqlite narrows it. */
export const ENGINES = (process.env.MEDIANODE_TEST_ENGINES ?? "sqlite,postgres").split(",").filter((e): e is "sqlite" | "postgres" => e === "sqlite" || e === "postgres");
