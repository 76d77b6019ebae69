import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newTokenId } from "../ids";
import { InvalidOptionsError, NotFoundError } from "../errors";
import { countActiveAdminTokens, getToken, insertToken, listTokens, revokeToken, setWebhookSecret, touchToken, SCOPES, type Scope, type TokenRow } from "../store/tokens";
import type { Db } from "../store/db";
import { audit } from "./audit";
import type { Principal } from "./deps";

// Token text: `mn_<tokenId>.<secret>`; only sha256(secret) is stored.
const hash = (secret: string) => createHash("sha256").update(secret).digest("hex");

export interface CreatedToken {
  id: string;
  name: string;
  scopes: Scope[];
  tenant: string;
  token: string;
  /** Signs the webhooks of this token's jobs (X-Medianode-Signature); shown once, like the token. Null for the first-start admin token (it uses the node's secret). */
  webhookSecret: string | null;
}

const newWebhookSecret = () => randomBytes(32).toString("base64url");

export function createToken(db: Db, input: { name: string; scopes?: string[]; tenant?: string; nodeWebhookSecret?: boolean }, actor: Principal | string, now = Date.now()): CreatedToken {
  const scopes = (input.scopes?.length ? input.scopes : ["jobs:write", "jobs:read"]) as Scope[];
  for (const s of scopes) if (!(SCOPES as readonly string[]).includes(s)) throw new InvalidOptionsError(`unknown scope "${s}" (scopes: ${SCOPES.join(", ")})`);
  if (!/^[\w.@-]{1,64}$/.test(input.name)) throw new InvalidOptionsError("name must be 1-64 letters, digits, . _ @ -");
  const id = newTokenId();
  const secret = randomBytes(24).toString("base64url");
  const tenant = input.tenant ?? input.name;
  // No ':' in a token's tenant: `jwt:<sub>` is the JWT tenants' namespace (api/jwt.ts).
  if (!/^[\w.@-]{1,64}$/.test(tenant)) throw new InvalidOptionsError("tenant must be 1-64 letters, digits, . _ @ - (no ':': jwt:<sub> is where JWT tenants live)");
  const webhookSecret = input.nodeWebhookSecret ? null : newWebhookSecret();
  insertToken(db, { id, name: input.name, hash: hash(secret), scopes, tenant, now, webhookSecret });
  audit({ db, now: () => now }, actor, "token.create", id, { name: input.name, scopes, tenant });
  return { id, name: input.name, scopes, tenant, token: `mn_${id}.${secret}`, webhookSecret };
}

/** A new signing secret for the webhooks of a token's jobs; returned once, the old one stops at once. */
export function rotateWebhookSecret(db: Db, id: string, actor: Principal | string, now = Date.now()): { id: string; webhookSecret: string } {
  const row = getToken(db, id);
  if (!row || row.revoked_at !== null) throw new NotFoundError(`no active token ${id}`);
  const webhookSecret = newWebhookSecret();
  setWebhookSecret(db, id, webhookSecret);
  audit({ db, now: () => now }, actor, "token.rotate_webhook_secret", id);
  return { id, webhookSecret };
}

export function tokenView(r: TokenRow) {
  return {
    id: r.id,
    name: r.name,
    scopes: JSON.parse(r.scopes) as Scope[],
    tenant: r.tenant,
    createdAt: new Date(r.created_at).toISOString(),
    lastUsedAt: r.last_used_at ? new Date(r.last_used_at).toISOString() : null,
    revoked: r.revoked_at !== null,
  };
}

export function listTokenViews(db: Db) {
  return listTokens(db).map(tokenView);
}

export function revokeTokenById(db: Db, id: string, actor: Principal | string, now = Date.now()): void {
  if (!getToken(db, id)) throw new NotFoundError(`no token ${id}`);
  revokeToken(db, id, now);
  audit({ db, now: () => now }, actor, "token.revoke", id);
}

/** An opaque token's check against the records: its principal, or null. */
export type TokenCheck = (text: string) => Principal | null;

/** The token check of a process that reads these records (null: it cannot, so JWTs only). */
export function tokenCheck(db: Db | null): TokenCheck | null {
  return db ? (text) => verifyToken(db, text) : null;
}

/** Whether an opaque token is revoked or gone (open streams re-check theirs); null db: it cannot tell. */
export function tokenRevokedCheck(db: Db | null): ((tokenId: string) => boolean) | null {
  return db
    ? (id) => {
        const row = getToken(db, id);
        return !row || row.revoked_at !== null;
      }
    : null;
}

const lastTouched = new Map<string, number>();

/** Token text → principal, or null. Constant-time hash compare; revocation takes effect at once. */
export function verifyToken(db: Db, text: string, now = Date.now()): Principal | null {
  const m = /^mn_(t_[0-9a-z]{26})\.([A-Za-z0-9_-]{16,128})$/.exec(text);
  if (!m) return null;
  const row = getToken(db, m[1]!);
  if (!row || row.revoked_at !== null) return null;
  const a = Buffer.from(hash(m[2]!), "hex");
  const b = Buffer.from(row.hash, "hex");
  if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
  // last_used_at is advisory: write it at most once a minute per token, not on every request.
  if ((lastTouched.get(row.id) ?? 0) < now - 60_000) {
    lastTouched.set(row.id, now);
    // Advisory: a busy or full database must not fail the request it rides on, and a monitor or
    // metrics node reads the records read-only (the api node records last use).
    try {
      touchToken(db, row.id, now);
    } catch {
      lastTouched.delete(row.id);
    }
  }
  return { tokenId: row.id, name: row.name, tenant: row.tenant, scopes: JSON.parse(row.scopes) as Scope[] };
}

export function adminTokenPath(dataDir: string): string {
  return join(dataDir, "admin.token");
}

/** First start with no admin token (other tokens may exist already): make one, write <data>/admin.token (0600), return it to print once. */
export function ensureAdminToken(db: Db, dataDir: string): CreatedToken | null {
  if (countActiveAdminTokens(db) > 0) return null;
  // The operator's own token signs with the node's secret (<data>/webhook.secret), which the
  // operator holds already; every other token gets a secret of its own.
  const t = createToken(db, { name: "admin", scopes: ["admin"], tenant: "admin", nodeWebhookSecret: true }, "system");
  const path = adminTokenPath(dataDir);
  writeFileSync(path, t.token + "\n", { mode: 0o600 });
  chmodSync(path, 0o600);
  return t;
}
