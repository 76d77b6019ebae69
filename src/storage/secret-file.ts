import { existsSync, readFileSync } from "node:fs";
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
