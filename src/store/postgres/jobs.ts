// The jobs table on PostgreSQL (Bun's built-in client), behind JobRecords: the same rows as
// SQLite (store/job-row.ts maps both) and the same rules, in PostgreSQL's SQL: a transition is
// one UPDATE ... RETURNING, so two api nodes recording the same report change the row once.
import type { SQL } from "bun";
import type { JobStatus } from "../../jobs/schema";
import { fromRow, newJobRecord, numOrNull, type JobRow } from "../job-row";
import type { Finish, Inserted, JobRecords, NewJob } from "../records";
import { waitingOf } from "../records";

const one = (rows: JobRow[]) => (rows.length ? fromRow(rows[0]!) : null);

const insertRow = (j: NewJob) => ({
  id: j.id,
  tenant: j.tenant,
  token_id: j.tokenId,
  type: j.type,
  status: "queued",
  priority: j.priority,
  source: JSON.stringify(j.source),
  options: JSON.stringify(j.options),
  metadata: j.metadata === undefined ? null : JSON.stringify(j.metadata),
  webhook: j.webhook,
  notify: j.notify ? JSON.stringify(j.notify) : null,
  idempotency_key: j.idempotencyKey,
  max_attempts: j.maxAttempts,
  created_at: j.now,
  updated_at: j.now,
});

export function postgresJobRecords(sql: SQL): JobRecords {
  const get = async (id: string) => one(await sql<JobRow[]>`SELECT * FROM jobs WHERE id = ${id}`);
  return {
    async insertMany(jobs) {
      if (!jobs.length) return [];
      // One statement for the group: rows whose id or (token, key) is taken are skipped
      // (ON CONFLICT DO NOTHING keeps the transaction alive), then looked up by their key.
      return sql.begin(async (tx) => {
        const made = new Set(((await tx`INSERT INTO jobs ${sql(jobs.map(insertRow))} ON CONFLICT DO NOTHING RETURNING id`) as { id: string }[]).map((r) => r.id));
        const out: Inserted[] = [];
        for (const j of jobs) {
          if (made.has(j.id)) {
            out.push({ record: newJobRecord(j), created: true });
            continue;
          }
          const earlier = j.tokenId && j.idempotencyKey ? one(await tx<JobRow[]>`SELECT * FROM jobs WHERE token_id = ${j.tokenId} AND idempotency_key = ${j.idempotencyKey}`) : null;
          out.push(earlier ? { record: earlier, created: false } : { error: new Error(`job id ${j.id} is taken`) });
        }
        return out;
      });
    },
    get,
    async generation(id) {
      const [r] = (await sql`SELECT status, finished_at FROM jobs WHERE id = ${id}`) as { status: JobStatus; finished_at: string | null }[];
      return r ? { status: r.status, finishedAt: numOrNull(r.finished_at) } : null;
    },
    findByIdempotencyKey: async (tokenId, key) => one(await sql<JobRow[]>`SELECT * FROM jobs WHERE token_id = ${tokenId} AND idempotency_key = ${key}`),
    async list(f) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      const add = (cond: string, v: string | number) => (args.push(v), where.push(cond.replace("?", `$${args.length}`)));
      if (f.tenant !== undefined) add("tenant = ?", f.tenant);
      if (f.status !== undefined) add("status = ?", f.status);
      if (f.type !== undefined) add("type = ?", f.type);
      if (f.cursor !== undefined) add("id < ?", f.cursor);
      args.push(f.limit);
      const q = `SELECT * FROM jobs ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id DESC LIMIT $${args.length}`;
      return ((await sql.unsafe(q, args)) as JobRow[]).map(fromRow);
    },
    async listOpen(afterId, limit) {
      return ((await sql<JobRow[]>`SELECT * FROM jobs WHERE status IN ('queued','active') AND id > ${afterId} ORDER BY id LIMIT ${limit}`) as JobRow[]).map(fromRow);
    },
    async markActive(id, run, attempt, node, at) {
      return one(
        await sql<JobRow[]>`UPDATE jobs SET status = 'active', node = ${node}, attempts = GREATEST(attempts, ${attempt}::int),
            started_at = COALESCE(started_at, ${at}::bigint), updated_at = ${at}
          WHERE id = ${id} AND run = ${run}
            AND (status = 'queued' OR (status = 'active' AND (node IS DISTINCT FROM ${node}::text OR attempts < ${attempt}::int))) RETURNING *`,
      );
    },
    async markRetrying(id, run, attempts, at) {
      return one(
        await sql<JobRow[]>`UPDATE jobs SET status = 'queued', progress = 0, live = NULL, attempts = GREATEST(attempts, ${attempts}::int), updated_at = ${at}
          WHERE id = ${id} AND run = ${run} AND status IN ('queued','active') RETURNING *`,
      );
    },
    async setProgress(id, run, progress, live, at) {
      await sql`UPDATE jobs SET progress = ${progress}, live = ${live ? JSON.stringify(live) : null}, updated_at = ${at} WHERE id = ${id} AND run = ${run} AND status IN ('queued','active')`;
    },
    async setWaiting(id, run, waiting, at) {
      const r = await get(id);
      if (!r || r.run !== run || r.status !== "queued") return null;
      if ((waitingOf(r) === null) === (waiting === null)) return null;
      return one(await sql<JobRow[]>`UPDATE jobs SET live = ${waiting ? JSON.stringify({ waiting }) : null}, updated_at = ${at} WHERE id = ${id} AND run = ${run} AND status = 'queued' RETURNING *`);
    },
    async finish(id, run, f: Finish) {
      return one(
        await sql<JobRow[]>`UPDATE jobs SET status = ${f.status}, progress = CASE WHEN ${f.status}::text = 'completed' THEN 100 ELSE progress END,
            outputs = COALESCE(${f.outputs ? JSON.stringify(f.outputs) : null}::text, outputs), result = ${f.result ? JSON.stringify(f.result) : null},
            error = ${f.error ? JSON.stringify(f.error) : null}, attempts = GREATEST(attempts, COALESCE(${f.attempts ?? null}::int, 0)),
            node = COALESCE(${f.node ?? null}::text, node), finished_at = ${f.at}, updated_at = ${f.at}, live = NULL
          WHERE id = ${id} AND status IN ('queued','active') AND (${run}::int IS NULL OR run = ${run}::int) RETURNING *`,
      );
    },
    async requeue(id, at) {
      return one(
        await sql<JobRow[]>`UPDATE jobs SET status = 'queued', progress = 0, error = NULL, result = NULL, outputs = '[]', attempts = 0, node = NULL,
            run = run + 1, started_at = NULL, finished_at = NULL, updated_at = ${at}
          WHERE id = ${id} AND status IN ('failed','cancelled') RETURNING *`,
      );
    },
    async countByStatus() {
      const out: Record<JobStatus, number> = { queued: 0, active: 0, completed: 0, failed: 0, cancelled: 0 };
      for (const r of (await sql`SELECT status, COUNT(*)::int AS n FROM jobs GROUP BY status`) as { status: JobStatus; n: number }[]) out[r.status] = r.n;
      return out;
    },
    async listFinishedBefore(cutoff, limit) {
      return ((await sql<JobRow[]>`SELECT * FROM jobs WHERE status IN ('completed','failed','cancelled') AND finished_at < ${cutoff} ORDER BY finished_at LIMIT ${limit}`) as JobRow[]).map(fromRow);
    },
    async delete(id) {
      await sql`DELETE FROM jobs WHERE id = ${id}`;
    },
    async deleteUnstarted(ids) {
      if (ids.length) await sql`DELETE FROM jobs WHERE id IN ${sql([...ids])} AND status = 'queued'`;
    },
    async existingIds(ids) {
      const out = new Set<string>();
      for (let i = 0; i < ids.length; i += 1000) {
        const chunk = ids.slice(i, i + 1000);
        for (const r of (await sql`SELECT id FROM jobs WHERE id IN ${sql(chunk)}`) as { id: string }[]) out.add(r.id);
      }
      return out;
    },
  };
}
