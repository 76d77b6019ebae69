// `medianode store copy --to postgres://... [--media-to s3://...]` (SPEC §11): moves an
// embedded install (the data dir's SQLite, and with --media-to its media) into the central
// store. Idempotent: run it again (before switching over, or after) and it copies nothing new.
import { existsSync } from "node:fs";
import { SQL } from "bun";
import { Command } from "commander";
import type { Config } from "../../src/config/schema";
import { StorageError } from "../../src/errors";
import { openBucket } from "../../src/storage/bucket";
import { copyMediaToBucket, type MediaCopied } from "../../src/storage/copy-media";
import { existingSecret, SECRET_FILES } from "../../src/storage/secret-file";
import { CLUSTER_SECRETS } from "../../src/store/records";
import { sqliteRecords } from "../../src/store/sqlite/index";
import { loadConfig, parseMediaUrl } from "../../src/config/load";
import { copyStore, type MediaCopier } from "../../src/store/copy";
import { migratePostgres, migrateSqlite } from "../../src/store/migrate";
import { redactUrl } from "../../src/store/postgres/index";
import { dbPath, openDb, type Db } from "../../src/store/sqlite/db";
import { requireDataDirOwner } from "../data-dir";
import { printJson, say, table, UsageError, formatBytes } from "../output";
import type { Ctx } from "../options";

/**
 * The media copier for `--media-to s3://bucket/prefix`: the bucket the cluster will use as
 * MEDIANODE_MEDIA_URL, reached with the same MEDIANODE_S3_ENDPOINT and AWS_* settings as a node
 * (so a wrong key fails here, before anything is written, as it would on the cluster).
 */
export async function mediaCopierFor(url: string, config: Config, onJob: (id: string, r: MediaCopied) => void): Promise<MediaCopier> {
  if (!parseMediaUrl(url)) throw new UsageError(`--media-to takes s3://bucket/prefix, got ${JSON.stringify(url)}`);
  const bucket = openBucket({ ...config, mediaUrl: url })!;
  const ready = await bucket.check();
  if (!ready.ok) throw new StorageError(`--media-to: ${ready.detail}`);
  return (jobIds) => copyMediaToBucket(config.dataDir, bucket, { jobIds, onJob });
}

/**
 * The install's signing secrets, which go with the records (cluster_secrets). An install from
 * before migration 0012 keeps them in data-dir files: they go into its records first, as its own
 * node would put them at its next start, so the cluster verifies what the install signed.
 * Returns the names held.
 */
async function secretsIntoRecords(dataDir: string, db: Db): Promise<string[]> {
  const records = sqliteRecords(db);
  for (const name of CLUSTER_SECRETS) {
    const value = existingSecret(dataDir, SECRET_FILES[name]);
    if (value !== null) await records.secrets.shared(name, () => value);
  }
  return db.query<{ name: string }, []>("SELECT name FROM cluster_secrets ORDER BY name").all().map((r) => r.name);
}

export function storeCommand(ctx: Ctx): Command {
  const store = new Command("store").description("the record and media store (SPEC §11)");
  store.addCommand(
    new Command("copy")
      .description("copy an embedded install (the data dir's SQLite records, and with --media-to its media) into PostgreSQL and a bucket; safe to run again (copies only what is missing)")
      .requiredOption("--to <url>", "postgres://user@host/db: the database the cluster will use as DATABASE_URL")
      .option("--media-to <url>", "s3://bucket/prefix: copy the media too (the cluster's MEDIANODE_MEDIA_URL)")
      .option("--data-dir <dir>", "the embedded install's data folder (env MEDIANODE_DATA_DIR, default ./data)")
      .option("--json", "print {from, to, tables: [{table, source, copied, present}], media: {files, copied, bytes, verified, jobs, skipped}, ok, secrets: [names of the signing secrets found]}")
      .action(async (o: { to: string; mediaTo?: string; dataDir?: string; json?: boolean }) => {
        if (!/^postgres(ql)?:\/\//.test(o.to)) throw new UsageError(`--to takes postgres://user@host/db, got ${JSON.stringify(redactUrl(o.to))}`);
        const config = loadConfig({ flags: { dataDir: o.dataDir }, env: ctx.io.env });
        requireDataDirOwner(config.dataDir, "store copy");
        const file = dbPath(config.dataDir);
        if (!existsSync(file)) throw new UsageError(`no embedded install at ${file} (pass its --data-dir)`);
        const media = o.mediaTo ? await mediaCopierFor(o.mediaTo, config, (id, r) => o.json || say(ctx.io, `media of ${id}: ${r.copied} files (${formatBytes(r.bytes)})`)) : undefined;
        const to = redactUrl(o.to);
        const db = openDb(file);
        const pg = new SQL(o.to, { max: 2, connectionTimeout: 10 });
        try {
          // Both sides at the latest version: the same tables and columns.
          migrateSqlite(db);
          await migratePostgres(pg).catch((e: Error) => {
            throw new Error(`cannot reach PostgreSQL at ${to}: ${e.message}`, { cause: e });
          });
          const secrets = await secretsIntoRecords(config.dataDir, db);
          const report = await copyStore(db, pg, { media });
          if (!report.ok) ctx.exitCode = 1;
          if (o.json) return printJson(ctx.io, { from: file, to, ...report, secrets });
          say(ctx.io, `${file} → ${to}`);
          say(ctx.io, table([["TABLE", "IN SQLITE", "COPIED", "IN POSTGRES"], ...report.tables.map((t) => [t.table, String(t.source), String(t.copied), String(t.present)])]));
          if (report.media) say(ctx.io, `media: ${report.media.files} files, ${report.media.copied} copied (${formatBytes(report.media.bytes)}), ${report.media.verified} verified by sha256`);
          const copied = report.tables.reduce((n, t) => n + t.copied, 0);
          if (!report.ok) say(ctx.io, "verification FAILED: the rows above whose IN POSTGRES differs from IN SQLITE are missing there");
          else say(ctx.io, copied ? `copied ${copied} rows; every row verified in PostgreSQL. Start the cluster with DATABASE_URL=${to}${o.mediaTo ? ` and MEDIANODE_MEDIA_URL=${o.mediaTo}` : ""}` : "nothing to copy: PostgreSQL holds every row already");
          if (secrets.length) say(ctx.io, `signing secrets (${secrets.join(", ")}) are in the records: the cluster verifies the playback URLs and webhook signatures this install handed out`);
        } finally {
          db.close();
          await pg.close({ timeout: 2 });
        }
      }),
  );
  return store;
}
