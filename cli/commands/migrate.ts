// `medianode migrate`: applies pending migrations to the records (<data>/medianode.db, or
// PostgreSQL with DATABASE_URL), idempotent.
import { Command } from "commander";
import { MIGRATIONS } from "../../migrations/sqlite/index";
import { POSTGRES_MIGRATIONS } from "../../migrations/postgres/index";
import { loadConfig } from "../../src/config/load";
import { openRecords } from "../../src/store/open";
import { redactUrl } from "../../src/store/postgres/index";
import { dbPath } from "../../src/store/sqlite/db";
import { requireDataDirOwner } from "../data-dir";
import { printJson, say } from "../output";
import type { Ctx } from "../options";

export function migrateCommand(ctx: Ctx): Command {
  return new Command("migrate")
    .description("apply pending database migrations (safe to run again; serve also does it at start)")
    .option("--data-dir <dir>", "data folder (env MEDIANODE_DATA_DIR, default ./data)")
    .option("--json", "print {database, engine, applied, latest}")
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const config = loadConfig({ flags: { dataDir: o.dataDir }, env: ctx.io.env });
      // The SQLite file is the data folder's: written as its owner only (PostgreSQL is not there).
      if (!config.databaseUrl) requireDataDirOwner(config.dataDir, "migrate");
      const records = await openRecords(config);
      const database = config.databaseUrl ? redactUrl(config.databaseUrl) : dbPath(config.dataDir);
      const list = records.engine === "postgres" ? POSTGRES_MIGRATIONS : MIGRATIONS;
      try {
        const applied = await records.migrate();
        const latest = list.at(-1)?.version ?? 0;
        if (o.json) return printJson(ctx.io, { database, engine: records.engine, applied, latest });
        if (applied.length) {
          for (const v of applied) say(ctx.io, `applied ${list.find((m) => m.version === v)?.name ?? v}`);
          say(ctx.io, `${database}: now at version ${latest}`);
        } else say(ctx.io, `${database}: up to date (version ${latest})`);
      } finally {
        await records.close();
      }
    });
}
