// `medianode token create|list|revoke`: works on <data>/medianode.db directly, so it
// works with the server stopped (and is how you get a token without one).
import { Command } from "commander";
import { loadConfig } from "../../src/config/load";
import { createToken, listTokenViews, revokeTokenById, rotateWebhookSecret } from "../../src/services/tokens";
import { dbPath, openDb, type Db } from "../../src/store/db";
import { migrate } from "../../src/store/migrate";
import { SCOPES } from "../../src/store/tokens";
import { existsSync } from "node:fs";
import { requireDataDirOwner } from "../data-dir";
import { printJson, say, table, warn } from "../output";
import type { Ctx } from "../options";

const ACTOR = "cli";

function withDb<T>(ctx: Ctx, dataDir: string | undefined, command: string, fn: (db: Db) => T): T {
  const config = loadConfig({ flags: { dataDir }, env: ctx.io.env });
  requireDataDirOwner(config.dataDir, `token ${command}`);
  const file = dbPath(config.dataDir);
  // A typo in --data-dir would otherwise make a second, empty database without a word.
  if (!existsSync(file)) warn(ctx.io, `note: no database at ${file} yet: creating one (the service's is in its data dir, e.g. --data-dir /var/lib/medianode)`);
  const db = openDb(file);
  try {
    migrate(db);
    return fn(db);
  } finally {
    db.close();
  }
}

const dataDirOption = ["--data-dir <dir>", "data folder holding medianode.db (env MEDIANODE_DATA_DIR, default ./data)"] as const;

export function tokenCommand(ctx: Ctx): Command {
  const token = new Command("token").description("API tokens: create, list, revoke (on the data folder, server running or not)");

  token.addCommand(
    new Command("create")
      .description("create a token; its text is printed once")
      .requiredOption("--name <name>", "a name for it (1-64 letters, digits, . _ @ -)")
      .option("--scopes <list>", `comma list of ${SCOPES.join(", ")} (default jobs:write,jobs:read)`)
      .option("--tenant <tenant>", "tenant whose jobs it sees (default: the name)")
      .option(...dataDirOption)
      .option("--json", "print {id, name, scopes, token, tenant, webhookSecret}")
      .action((o: { name: string; scopes?: string; tenant?: string; dataDir?: string; json?: boolean }) => {
        const scopes = o.scopes?.split(",").map((s) => s.trim()).filter(Boolean);
        const t = withDb(ctx, o.dataDir, "create", (db) => createToken(db, { name: o.name, scopes, tenant: o.tenant }, ACTOR));
        if (o.json) return printJson(ctx.io, { id: t.id, name: t.name, scopes: t.scopes, token: t.token, tenant: t.tenant, webhookSecret: t.webhookSecret });
        say(ctx.io, `created token ${t.id} "${t.name}" (scopes ${t.scopes.join(",")}, tenant ${t.tenant}); it is not shown again:`);
        say(ctx.io, t.token);
        if (t.webhookSecret) say(ctx.io, `webhook signing secret of its jobs (X-Medianode-Signature), also shown once: ${t.webhookSecret}`);
      }),
  );

  token.addCommand(
    new Command("list")
      .description("list tokens (never their text)")
      .option(...dataDirOption)
      .option("--json", "print the list as JSON")
      .action((o: { dataDir?: string; json?: boolean }) => {
        const items = withDb(ctx, o.dataDir, "list", (db) => listTokenViews(db));
        if (o.json) return printJson(ctx.io, items);
        if (!items.length) return say(ctx.io, "no tokens");
        say(
          ctx.io,
          table([
            ["ID", "NAME", "SCOPES", "TENANT", "CREATED", "LAST USED", "STATE"],
            ...items.map((t) => [t.id, t.name, t.scopes.join(","), t.tenant, t.createdAt, t.lastUsedAt ?? "-", t.revoked ? "revoked" : "active"]),
          ]),
        );
      }),
  );

  token.addCommand(
    new Command("revoke")
      .description("revoke a token (takes effect at once)")
      .argument("<id>", "token id (t_…), or the token text itself (mn_t_….secret)")
      .option(...dataDirOption)
      .action((arg: string, o: { dataDir?: string }) => {
        const id = /^mn_(t_[0-9a-z]+)\./.exec(arg)?.[1] ?? arg;
        withDb(ctx, o.dataDir, "revoke", (db) => revokeTokenById(db, id, ACTOR));
        say(ctx.io, `revoked ${id}`);
      }),
  );
  token.addCommand(
    new Command("rotate-webhook-secret")
      .description("give a token a new secret for signing its jobs' webhooks (printed once; the old one stops at once)")
      .argument("<id>", "token id (t_…)")
      .option(...dataDirOption)
      .option("--json", "print {id, webhookSecret}")
      .action((id: string, o: { dataDir?: string; json?: boolean }) => {
        const r = withDb(ctx, o.dataDir, "rotate-webhook-secret", (db) => rotateWebhookSecret(db, id, ACTOR));
        if (o.json) return printJson(ctx.io, r);
        say(ctx.io, `new webhook signing secret for ${r.id} (not shown again):`);
        say(ctx.io, r.webhookSecret);
      }),
  );
  return token;
}
