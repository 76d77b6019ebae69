// The jobs table on SQLite (bun:sqlite), behind the JobRecords interface (store/records.ts).
// Rows are snake_case with JSON text columns (store/job-row.ts maps them, for both engines);
// every method returns parsed records. bun:sqlite is synchronous, so each method completes before it resolves.
import type { JobRecord, JobStatus, Waiting } from "../../jobs/schema";
import { fromRow, newJobRecord, type JobRow } from "../job-row";
import { isBusy, type Db } from "./db";
import type { Finish, Inserted, JobRecords, NewJob } from "../records";
import { waitingOf } from "../records";

/** A batch that finds the database locked is retried this many times, this far apart (~1 s in all). */
const BUSY_RETRIES = 8;
const BUSY_RETRY_MS = 100;

const maybe = (r: JobRow | null) => (r ? fromRow(r) : null);

/** The SQLite error of a second (token, idempotency key): a concurrent submit won the race. */
const isIdempotencyConflict = (e: unknown) => e instanceof Error && /UNIQUE constraint failed: jobs\.token_id, jobs\.idempotency_key/.test(e.message);

export function sqliteJobRecords(db: Db): JobRecords {
  const getRow = db.query<JobRow, [string]>("SELECT * FROM jobs WHERE id = ?");
  const byKey = db.query<JobRow, [string, string]>("SELECT * FROM jobs WHERE token_id = ? AND idempotency_key = ?");
  const insert = db.query(
    `INSERT INTO jobs (id, tenant, token_id, type, status, priority, source, options, metadata, webhook, idempotency_key, max_attempts, created_at, updated_at, notify)
     VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)`,
  );
  const insertOne = (j: NewJob): JobRecord => {
    insert.run(j.id, j.tenant, j.tokenId, j.type, j.priority, JSON.stringify(j.source), JSON.stringify(j.options), j.metadata === undefined ? null : JSON.stringify(j.metadata), j.webhook, j.idempotencyKey, j.maxAttempts, j.now, j.notify ? JSON.stringify(j.notify) : null);
    return newJobRecord(j);
  };
  const insertAll = db.transaction((jobs: readonly NewJob[]): Inserted[] =>
    jobs.map((j) => {
      try {
        // The key is looked up only when the insert says it is taken: one statement for a new job.
        return { record: insertOne(j), created: true };
      } catch (e) {
        const earlier = j.tokenId && j.idempotencyKey && isIdempotencyConflict(e) ? byKey.get(j.tokenId, j.idempotencyKey) : null;
        // One bad row (a constraint) fails its own request, not the batch.
        return earlier ? { record: fromRow(earlier), created: false } : { error: e };
      }
    }),
  );
  const get = (id: string) => maybe(getRow.get(id));
  const generationRow = db.query<{ status: JobStatus; finished_at: number | null }, [string]>("SELECT status, finished_at FROM jobs WHERE id = ?");

  return {
    async insertMany(jobs) {
      // BEGIN IMMEDIATE takes the write lock first, so a lock held elsewhere fails the whole
      // batch at once (after BUSY_TIMEOUT_MS), not row by row; it is retried here without
      // blocking the process, then the caller answers 503 with Retry-After (issue #12).
      for (let attempt = 1; ; attempt++) {
        try {
          return insertAll.immediate(jobs);
        } catch (e) {
          if (!isBusy(e) || attempt >= BUSY_RETRIES) throw e;
          await Bun.sleep(BUSY_RETRY_MS);
        }
      }
    },
    get: async (id) => get(id),
    async generation(id) {
      const r = generationRow.get(id);
      return r ? { status: r.status, finishedAt: r.finished_at } : null;
    },
    findByIdempotencyKey: async (tokenId, key) => maybe(byKey.get(tokenId, key)),
    async list(f) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (f.tenant !== undefined) (where.push("tenant = ?"), args.push(f.tenant));
      if (f.status !== undefined) (where.push("status = ?"), args.push(f.status));
      if (f.type !== undefined) (where.push("type = ?"), args.push(f.type));
      if (f.cursor !== undefined) (where.push("id < ?"), args.push(f.cursor));
      const sql = `SELECT * FROM jobs ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id DESC LIMIT ?`;
      return db.query<JobRow, (string | number)[]>(sql).all(...args, f.limit).map(fromRow);
    },
    async listOpen(afterId, limit) {
      return db.query<JobRow, [string, number]>("SELECT * FROM jobs WHERE status IN ('queued','active') AND id > ? ORDER BY id LIMIT ?").all(afterId, limit).map(fromRow);
    },
    async markActive(id, run, attempt, node, at) {
      return maybe(
        db
          .query<JobRow, Record<string, string | number>>(
            `UPDATE jobs SET status = 'active', node = $node, attempts = MAX(attempts, $attempt),
               started_at = COALESCE(started_at, $at), updated_at = $at
             WHERE id = $id AND run = $run
               AND (status = 'queued' OR (status = 'active' AND (node IS NOT $node OR attempts < $attempt))) RETURNING *`,
          )
          .get({ id, run, attempt, node, at }),
      );
    },
    async markRetrying(id, run, attempts, at) {
      return maybe(
        db
          .query<JobRow, Record<string, string | number>>(
            `UPDATE jobs SET status = 'queued', progress = 0, live = NULL, attempts = MAX(attempts, $attempts), updated_at = $at
             WHERE id = $id AND run = $run AND status IN ('queued','active') RETURNING *`,
          )
          .get({ id, run, attempts, at }),
      );
    },
    async setProgress(id, run, progress, live, at) {
      db.query("UPDATE jobs SET progress = ?, live = ?, updated_at = ? WHERE id = ? AND run = ? AND status IN ('queued','active')").run(progress, live ? JSON.stringify(live) : null, at, id, run);
    },
    async setWaiting(id, run, waiting: Waiting | null, at) {
      const r = get(id);
      if (!r || r.run !== run || r.status !== "queued") return null;
      if ((waitingOf(r) === null) === (waiting === null)) return null;
      return maybe(
        db
          .query<JobRow, [string | null, number, string, number]>("UPDATE jobs SET live = ?, updated_at = ? WHERE id = ? AND run = ? AND status = 'queued' RETURNING *")
          .get(waiting ? JSON.stringify({ waiting }) : null, at, id, run),
      );
    },
    async finish(id, run, f: Finish) {
      return maybe(
        db
          .query<JobRow, Record<string, string | number | null>>(
            `UPDATE jobs SET status = $status, progress = CASE WHEN $status = 'completed' THEN 100 ELSE progress END,
               outputs = COALESCE($outputs, outputs), result = $result, error = $error,
               attempts = MAX(attempts, COALESCE($attempts, 0)), node = COALESCE($node, node),
               finished_at = $at, updated_at = $at, live = NULL
             WHERE id = $id AND status IN ('queued','active') AND ($run IS NULL OR run = $run) RETURNING *`,
          )
          .get({
            id,
            run,
            status: f.status,
            outputs: f.outputs ? JSON.stringify(f.outputs) : null,
            result: f.result ? JSON.stringify(f.result) : null,
            error: f.error ? JSON.stringify(f.error) : null,
            attempts: f.attempts ?? null,
            node: f.node ?? null,
            at: f.at,
          }),
      );
    },
    async requeue(id, at) {
      return maybe(
        db
          .query<JobRow, [number, string]>(
            `UPDATE jobs SET status = 'queued', progress = 0, error = NULL, result = NULL, outputs = '[]', attempts = 0, node = NULL,
               run = run + 1, started_at = NULL, finished_at = NULL, updated_at = ?1
             WHERE id = ?2 AND status IN ('failed','cancelled') RETURNING *`,
          )
          .get(at, id),
      );
    },
    async countByStatus() {
      const out: Record<JobStatus, number> = { queued: 0, active: 0, completed: 0, failed: 0, cancelled: 0 };
      for (const r of db.query<{ status: JobStatus; n: number }, []>("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").all()) out[r.status] = r.n;
      return out;
    },
    async listFinishedBefore(cutoff, limit) {
      return db
        .query<JobRow, [number, number]>("SELECT * FROM jobs WHERE status IN ('completed','failed','cancelled') AND finished_at < ? ORDER BY finished_at LIMIT ?")
        .all(cutoff, limit)
        .map(fromRow);
    },
    async delete(id) {
      db.query("DELETE FROM jobs WHERE id = ?").run(id);
    },
    async deleteUnstarted(ids) {
      db.transaction(() => {
        for (const id of ids) db.query("DELETE FROM jobs WHERE id = ? AND status = 'queued'").run(id);
      })();
    },
    async existingIds(ids) {
      const out = new Set<string>();
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        const rows = db.query<{ id: string }, string[]>(`SELECT id FROM jobs WHERE id IN (${chunk.map(() => "?").join(",")})`).all(...chunk);
        for (const r of rows) out.add(r.id);
      }
      return out;
    },
  };
}
