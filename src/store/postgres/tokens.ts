// The tokens table on PostgreSQL (behind TokenRecords).
import type { SQL } from "bun";
import { numOrNull } from "../job-row";
import type { TokenRecords, TokenRow } from "../records";

type Raw = Omit<TokenRow, "created_at" | "last_used_at" | "revoked_at"> & { created_at: string; last_used_at: string | null; revoked_at: string | null };
const row = (r: Raw): TokenRow => ({ ...r, created_at: Number(r.created_at), last_used_at: numOrNull(r.last_used_at), revoked_at: numOrNull(r.revoked_at) });

/** Our advisory lock number for "first admin token" (serialises api nodes starting together). */
const FIRST_ADMIN_LOCK = 0x6d6e6164; // "mnad"

export function postgresTokenRecords(sql: SQL): TokenRecords {
  const insert = async (q: SQL, t: Parameters<TokenRecords["insert"]>[0]) => {
    const [r] = (await q`INSERT INTO tokens (id, name, hash, scopes, tenant, created_at, webhook_secret)
      VALUES (${t.id}, ${t.name}, ${t.hash}, ${JSON.stringify(t.scopes)}, ${t.tenant}, ${t.now}, ${t.webhookSecret}) RETURNING *`) as Raw[];
    return row(r!);
  };
  return {
    insert: (t) => insert(sql, t),
    insertFirstAdmin: (t) =>
      sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(${FIRST_ADMIN_LOCK})`;
        const [c] = (await tx`SELECT COUNT(*)::int AS n FROM tokens WHERE revoked_at IS NULL AND scopes LIKE '%"admin"%'`) as { n: number }[];
        return c!.n > 0 ? null : insert(tx, t);
      }),
    async get(id) {
      const [r] = (await sql`SELECT * FROM tokens WHERE id = ${id}`) as Raw[];
      return r ? row(r) : null;
    },
    list: async () => ((await sql`SELECT * FROM tokens ORDER BY created_at, id`) as Raw[]).map(row),
    async countActiveAdmins() {
      const [r] = (await sql`SELECT COUNT(*)::int AS n FROM tokens WHERE revoked_at IS NULL AND scopes LIKE '%"admin"%'`) as { n: number }[];
      return r!.n;
    },
    revoke: async (id, at) => (await sql`UPDATE tokens SET revoked_at = ${at} WHERE id = ${id} AND revoked_at IS NULL`).count === 1,
    setWebhookSecret: async (id, secret) => (await sql`UPDATE tokens SET webhook_secret = ${secret} WHERE id = ${id} AND revoked_at IS NULL`).count === 1,
    async touch(id, at) {
      await sql`UPDATE tokens SET last_used_at = ${at} WHERE id = ${id}`;
    },
  };
}
