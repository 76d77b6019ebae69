// GET /v1/jobs/export: every matching job streamed as NDJSON (one job view per line, as
// GET /v1/jobs/:id gives it) or CSV (RFC 4180, one flat row per job). The body is pulled a
// page at a time from the records (services/job-queries.ts), so memory stays flat.
import type { Job, JobRecord } from "../../jobs/schema";
import { jobView } from "./view";

export type ExportFormat = "ndjson" | "csv";

export const CSV_COLUMNS = ["id", "type", "status", "priority", "attempts", "node", "createdAt", "startedAt", "finishedAt", "durationSec", "errorCode", "errorMessage", "outputs", "metadata"] as const;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. A cell that a
 * spreadsheet would run as a formula (= + - @, tab, CR first: "CSV injection") gets a leading
 * apostrophe, since metadata and error messages come from users and files. Pure.
 */
export function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return "";
  let s = String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const csvLine = (cells: readonly (string | number | null | undefined)[]) => cells.map(csvCell).join(",") + "\r\n";

/** The CSV row of one job view, in CSV_COLUMNS order. Pure. */
export function jobCsvCells(j: Job): (string | number | null)[] {
  const duration = j.startedAt && j.finishedAt ? (Date.parse(j.finishedAt) - Date.parse(j.startedAt)) / 1000 : null;
  return [j.id, j.type, j.status, j.priority, j.attempts, j.node, j.createdAt, j.startedAt, j.finishedAt, duration, j.error?.code ?? null, j.error?.message ?? null, j.outputs.length, j.metadata === null ? null : JSON.stringify(j.metadata)];
}

/** The file name offered to a browser: jobs-<UTC date>.<ext>. */
export const exportFileName = (format: ExportFormat, now: number) => `jobs-${new Date(now).toISOString().slice(0, 10)}.${format}`;

/** The response body: a header row for CSV, then one line per job, pulled as the client reads. */
export function exportBody(rows: AsyncIterator<JobRecord>, format: ExportFormat): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let headerSent = format !== "csv";
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(enc.encode(csvLine(CSV_COLUMNS)));
          return;
        }
        // A batch of lines per pull: one enqueue per job would cost more than the JSON itself.
        let chunk = "";
        for (let i = 0; i < 200; i++) {
          const next = await rows.next();
          if (next.done) {
            if (chunk) controller.enqueue(enc.encode(chunk));
            controller.close();
            return;
          }
          const view = jobView(next.value);
          chunk += format === "csv" ? csvLine(jobCsvCells(view)) : JSON.stringify(view) + "\n";
        }
        controller.enqueue(enc.encode(chunk));
      },
      async cancel() {
        await rows.return?.();
      },
    },
    { highWaterMark: 1 },
  );
}
