import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";

/**
 * The data-dir files the signing secrets were kept in before the records held them (an install
 * from before migration 0012), by their name in cluster_secrets: read once, to keep what they
 * signed verifying (services/signing-secrets.ts, `store copy`).
 */
export const SECRET_FILES = { playback: "playback.secret", webhook: "webhook.secret", vapid: "vapid.json" } as const;

/** A data-dir secret file's contents, trimmed, or null when there is none. */
export function existingSecret(dataDir: string, name: string): string | null {
  const path = join(dataDir, name);
  return existsSync(path) ? readFileSync(path, "utf8").trim() : null;
}

/**
 * A secret kept in the data dir (`<data>/<name>`, mode 0600), made on first use: the default
 * for keys the operator did not set (webhook.secret, playback.secret). `wx` so that two
 * processes starting at once cannot each write their own.
 */
export function secretFile(dataDir: string, name: string): string {
  const path = join(dataDir, name);
  if (!existsSync(path)) {
    try {
      writeFileSync(path, randomBytes(32).toString("base64url") + "\n", { mode: 0o600, flag: "wx" });
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST") throw e;
    }
  }
  return readFileSync(path, "utf8").trim();
}
