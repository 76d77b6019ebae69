// The notification mail of one terminal event: subject, plain text, a small HTML body and the
// threading headers. Pure (no clock, no I/O), so every line of it is tested.
// No secrets: no token, no signing secret, no stderr tail or probe (they can name server paths);
// only the job's type, status, duration, error code/message and links.

export interface MailJob {
  id: string;
  type: string;
  status: string;
  startedAt: number | null;
  finishedAt: number | null;
  error: { code: string; message: string } | null;
}

export interface MailInput {
  eventType: string;
  /** When the event happened (ISO), used if the job record is gone. */
  at: string;
  job: MailJob;
  /** The job's page (API URL) and, when one was made, a playback URL. */
  links: { job: string; playback?: string | null; dashboard?: string | null };
  deliveryId: string;
  /** The domain of the From address: Message-IDs are "<...@domain>" (RFC 5322 §3.6.4). */
  domain: string;
}

export interface MailMessage {
  subject: string;
  text: string;
  html: string;
  messageId: string;
  inReplyTo: string;
  references: string;
}

/** "4.2 s", "3 min 05 s", "1 h 02 min" (or null when it never ran). Pure. */
export function formatDuration(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return null;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s - m * 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
// Message-ID local parts allow dot-atom text only; job and delivery ids are [A-Za-z0-9_] already.
const atom = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "-");

/** The thread root of a job: every mail about it replies to this id, so clients group them. */
export function jobThreadId(jobId: string, domain: string): string {
  return `<job.${atom(jobId)}@${domain}>`;
}

export function buildMail(m: MailInput): MailMessage {
  const { job } = m;
  const status = job.status || m.eventType.replace(/^job\./, "");
  const duration = formatDuration(job.startedAt !== null && job.finishedAt !== null ? job.finishedAt - job.startedAt : null);
  const verb = status === "completed" ? "is ready" : status === "failed" ? "failed" : status === "cancelled" ? "was cancelled" : status;
  const subject = `[medianode] ${job.type} job ${job.id} ${verb}`;
  const rows: [string, string][] = [
    ["Job", job.id],
    ["Type", job.type],
    ["Status", status],
    ...(duration ? ([["Duration", duration]] as [string, string][]) : []),
    ...(job.error ? ([["Error", `${job.error.code}: ${job.error.message.slice(0, 300)}`]] as [string, string][]) : []),
    ["Finished", job.finishedAt !== null ? new Date(job.finishedAt).toISOString() : m.at],
  ];
  const links: [string, string][] = [
    ...(m.links.playback ? ([["Play", m.links.playback]] as [string, string][]) : []),
    ["Job", m.links.job],
    ...(m.links.dashboard ? ([["Dashboard", m.links.dashboard]] as [string, string][]) : []),
  ];
  const text = [
    `Your ${job.type} job ${verb}.`,
    "",
    ...rows.map(([k, v]) => `${k}: ${v}`),
    "",
    ...links.map(([k, v]) => `${k}: ${v}`),
    "",
    "-- ",
    "medianode: you get this because this address is subscribed to job events.",
  ].join("\n");
  const html = [
    "<!doctype html><html><body style=\"font-family:sans-serif\">",
    `<p>Your ${escapeHtml(job.type)} job <strong>${escapeHtml(verb)}</strong>.</p>`,
    "<table>",
    ...rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`),
    "</table>",
    `<p>${links.map(([k, v]) => `<a href="${escapeHtml(v)}">${escapeHtml(k)}</a>`).join(" · ")}</p>`,
    "<p style=\"color:#777;font-size:small\">medianode: you get this because this address is subscribed to job events.</p>",
    "</body></html>",
  ].join("\n");
  const root = jobThreadId(job.id, m.domain);
  return { subject, text, html, messageId: `<${atom(m.deliveryId)}.${atom(job.id)}@${m.domain}>`, inReplyTo: root, references: root };
}
