// The SQLite migrations, embedded so that the single executable carries them (SPEC §1).
// tests/store/migrate.test.ts checks that every .sql file in this folder is listed, and that
// migrations/postgres/ has the same versions (one change, one number, on either engine).
import m0001 from "./0001_init.sql" with { type: "text" };
import m0002 from "./0002_add_job_live.sql" with { type: "text" };
import m0003 from "./0003_drop_enqueued_flag.sql" with { type: "text" };
import m0004 from "./0004_add_webhooks.sql" with { type: "text" };
import m0005 from "./0005_key_breakers_by_subscription.sql" with { type: "text" };
import m0006 from "./0006_namespace_jwt_tenants.sql" with { type: "text" };
import m0007 from "./0007_add_token_webhook_secrets.sql" with { type: "text" };
import m0008 from "./0008_add_notifications.sql" with { type: "text" };
import m0009 from "./0009_add_channels.sql" with { type: "text" };
import m0010 from "./0010_add_job_query_indexes.sql" with { type: "text" };
import m0011 from "./0011_cover_job_list_indexes.sql" with { type: "text" };
import m0012 from "./0012_add_cluster_secrets.sql" with { type: "text" };

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "0001_init.sql", sql: m0001 },
  { version: 2, name: "0002_add_job_live.sql", sql: m0002 },
  { version: 3, name: "0003_drop_enqueued_flag.sql", sql: m0003 },
  { version: 4, name: "0004_add_webhooks.sql", sql: m0004 },
  { version: 5, name: "0005_key_breakers_by_subscription.sql", sql: m0005 },
  { version: 6, name: "0006_namespace_jwt_tenants.sql", sql: m0006 },
  { version: 7, name: "0007_add_token_webhook_secrets.sql", sql: m0007 },
  { version: 8, name: "0008_add_notifications.sql", sql: m0008 },
  { version: 9, name: "0009_add_channels.sql", sql: m0009 },
  { version: 10, name: "0010_add_job_query_indexes.sql", sql: m0010 },
  { version: 11, name: "0011_cover_job_list_indexes.sql", sql: m0011 },
  { version: 12, name: "0012_add_cluster_secrets.sql", sql: m0012 },
];
