// `medianode migrate`: applies pending SQL migrations to <data>/medianode.db (idempotent).
import { Command } from "commander";
import { MIGRATIONS } from "../../migrations/index";
import { loadConfig } from "../../src/config/load";
import { dbPath, openDb } from "../../src/store/db";
import { migrate } from "../../src/store/migrate";
import { requireDataDirOwner } from "../data-dir";
import { printJson, say } from "../output";
import type { Ctx } from "../options";

export function migrateCommand(ctx: Ctx): Command {
  return new Command("migrate")
    .description("apply pending database migrations (safe to run again; serve also does it at start)")
    .option("--data-dir <dir>", "data folder (env MEDIANODE_DATA_DIR, default ./data)")
    .option("--json", "print {database, applied, latest}")
    .action((o: { dataDir?: string; json?: boolean }) => {
      const config = loadConfig({ flags: { dataDir: o.dataDir }, env: ctx.io.env });
      requireDataDirOwner(config.dataDir, "migrate");
      const file = dbPath(config.dataDir);
      const db = openDb(file);
      try {
        const applied = migrate(db);
        const latest = MIGRATIONS.at(-1)?.version ?? 0;
        if (o.json) return printJson(ctx.io, { database: file, applied, latest });
        if (applied.length) {
          for (const v of applied) say(ctx.io, `applied ${MIGRATIONS.find((m) => m.version === v)?.name ?? v}`);
          say(ctx.io, `${file}: now at version ${latest}`);
        } else say(ctx.io, `${file}: up to date (version ${latest})`);
      } finally {
        db.close();
      }
    });
}
