import type { Db } from "./db";

export const SCOPES = ["admin", "jobs:write", "jobs:read", "worker"] as const;
export type Scope = (typeof SCOPES)[number];

export interface TokenRow {
  id: string;
  name: string;
  hash: string;
  scopes: string;
  tenant: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  /** Signs the webhooks of this token's jobs; null for tokens made before 0007 (the node's secret). */
  webhook_secret: string | null;
}

export function insertToken(db: Db, t: { id: string; name: string; hash: string; scopes: Scope[]; tenant: string; now: number; webhookSecret: string | null }): TokenRow {
  return db
    .query<TokenRow, [string, string, string, string, string, number, string | null]>(
      "INSERT INTO tokens (id, name, hash, scopes, tenant, created_at, webhook_secret) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
    )
    .get(t.id, t.name, t.hash, JSON.stringify(t.scopes), t.tenant, t.now, t.webhookSecret)!;
}

export function setWebhookSecret(db: Db, id: string, secret: string): boolean {
  return db.query("UPDATE tokens SET webhook_secret = ? WHERE id = ? AND revoked_at IS NULL").run(secret, id).changes === 1;
}

export function getToken(db: Db, id: string): TokenRow | null {
  return db.query<TokenRow, [string]>("SELECT * FROM tokens WHERE id = ?").get(id);
}

export function listTokens(db: Db): TokenRow[] {
  return db.query<TokenRow, []>("SELECT * FROM tokens ORDER BY created_at, id").all();
}

export function countActiveAdminTokens(db: Db): number {
  return db.query<{ n: number }, []>(`SELECT COUNT(*) AS n FROM tokens WHERE revoked_at IS NULL AND scopes LIKE '%"admin"%'`).get()!.n;
}

export function revokeToken(db: Db, id: string, at: number): boolean {
  return db.query("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(at, id).changes === 1;
}

export function touchToken(db: Db, id: string, at: number): void {
  db.query("UPDATE tokens SET last_used_at = ? WHERE id = ?").run(at, id);
}
