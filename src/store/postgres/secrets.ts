// The cluster's signing secrets on PostgreSQL (behind SecretRecords). Api nodes starting together
// may each offer one: ON CONFLICT keeps the first insert, and everyone reads back what is stored.
import type { SQL } from "bun";
import type { SecretRecords } from "../records";

export function postgresSecretRecords(sql: SQL): SecretRecords {
  const get = async (name: string) => ((await sql`SELECT value FROM cluster_secrets WHERE name = ${name}`) as { value: string }[])[0]?.value;
  return {
    async shared(name, make) {
      const have = await get(name);
      if (have !== undefined) return have;
      await sql`INSERT INTO cluster_secrets (name, value, created_at) VALUES (${name}, ${make()}, ${Date.now()}) ON CONFLICT (name) DO NOTHING`;
      return (await get(name))!;
    },
  };
}
