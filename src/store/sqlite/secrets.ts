// The cluster's signing secrets on SQLite (behind SecretRecords): one api node writes the file,
// so the insert-if-absent needs no more than OR IGNORE.
import type { SecretRecords } from "../records";
import type { Db } from "./db";

export function sqliteSecretRecords(db: Db): SecretRecords {
  const get = db.query<{ value: string }, [string]>("SELECT value FROM cluster_secrets WHERE name = ?");
  const put = db.query("INSERT OR IGNORE INTO cluster_secrets (name, value, created_at) VALUES (?, ?, ?)");
  return {
    async shared(name, make) {
      const have = get.get(name);
      if (have) return have.value;
      put.run(name, make(), Date.now());
      return get.get(name)!.value;
    },
  };
}
