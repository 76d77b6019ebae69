// The tokens table on SQLite (behind TokenRecords).
import type { NewToken, TokenRecords, TokenRow } from "../records";
import type { Db } from "./db";

export function sqliteTokenRecords(db: Db): TokenRecords {
  const insert = (t: NewToken) =>
    db
      .query<TokenRow, [string, string, string, string, string, number, string | null]>(
        "INSERT INTO tokens (id, name, hash, scopes, tenant, created_at, webhook_secret) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
      )
      .get(t.id, t.name, t.hash, JSON.stringify(t.scopes), t.tenant, t.now, t.webhookSecret)!;
  const activeAdmins = () => db.query<{ n: number }, []>(`SELECT COUNT(*) AS n FROM tokens WHERE revoked_at IS NULL AND scopes LIKE '%"admin"%'`).get()!.n;
  // IMMEDIATE: the write lock is taken before the count, so two processes cannot both see none.
  const firstAdmin = db.transaction((t: NewToken) => (activeAdmins() > 0 ? null : insert(t)));
  return {
    insert: async (t) => insert(t),
    insertFirstAdmin: async (t) => firstAdmin.immediate(t),
    get: async (id) => db.query<TokenRow, [string]>("SELECT * FROM tokens WHERE id = ?").get(id),
    list: async () => db.query<TokenRow, []>("SELECT * FROM tokens ORDER BY created_at, id").all(),
    countActiveAdmins: async () => activeAdmins(),
    revoke: async (id, at) => db.query("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(at, id).changes === 1,
    setWebhookSecret: async (id, secret) => db.query("UPDATE tokens SET webhook_secret = ? WHERE id = ? AND revoked_at IS NULL").run(secret, id).changes === 1,
    async touch(id, at) {
      db.query("UPDATE tokens SET last_used_at = ? WHERE id = ?").run(at, id);
    },
  };
}
