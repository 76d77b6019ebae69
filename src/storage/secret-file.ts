import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";

/**
 * The data-dir files of the signing secrets an operator may leave unset, by config key. What they
 * signed (playback URLs, webhook signatures) stops verifying where another secret is used, so
 * `store copy` names them for the cluster to keep.
 */
export const SECRET_FILES = { playbackSecret: "playback.secret", webhookSecret: "webhook.secret" } as const;

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
