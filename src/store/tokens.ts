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
}

export function insertToken(db: Db, t: { id: string; name: string; hash: string; scopes: Scope[]; tenant: string; now: number }): TokenRow {
  return db
    .query<TokenRow, [string, string, string, string, string, number]>(
      "INSERT INTO tokens (id, name, hash, scopes, tenant, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
    )
    .get(t.id, t.name, t.hash, JSON.stringify(t.scopes), t.tenant, t.now)!;
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
