// The SQL files, embedded so that the single executable carries them (SPEC §1).
// tests/store/migrate.test.ts checks that every .sql file in this folder is listed.
import m0001 from "./0001_init.sql" with { type: "text" };
import m0002 from "./0002_add_job_live.sql" with { type: "text" };
import m0003 from "./0003_drop_enqueued_flag.sql" with { type: "text" };
import m0004 from "./0004_add_webhooks.sql" with { type: "text" };
import m0005 from "./0005_add_channels.sql" with { type: "text" };

export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: "0001_init.sql", sql: m0001 },
  { version: 2, name: "0002_add_job_live.sql", sql: m0002 },
  { version: 3, name: "0003_drop_enqueued_flag.sql", sql: m0003 },
  { version: 4, name: "0004_add_webhooks.sql", sql: m0004 },
  { version: 5, name: "0005_add_channels.sql", sql: m0005 },
];
