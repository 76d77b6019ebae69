// The shape every benchmark returns, and how run.ts prints and stores it.
// Figures are reported (with a ratio against the raw tool measured in the same run);
// nothing here asserts a time.

export interface Metric {
  label: string;
  value: number;
  unit: string;
}

export interface Ratio {
  label: string;
  value: number;
  /** The issue's target, e.g. ">= 0.9" or "<= 1.05". */
  target?: { op: ">=" | "<="; value: number };
}

export interface Result {
  name: string;
  /** One line: what was measured and how. */
  description: string;
  metrics: Metric[];
  ratios: Ratio[];
  notes: string[];
  /** Free-form detail (timings breakdown, settings) kept in latest.json. */
  details?: Record<string, unknown>;
}

export function meets(r: Ratio): boolean | null {
  if (!r.target) return null;
  return r.target.op === ">=" ? r.value >= r.target.value : r.value <= r.target.value;
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1000) return n.toFixed(0);
  if (a >= 100) return n.toFixed(1);
  if (a >= 10) return n.toFixed(2);
  return n.toFixed(3);
}

export function ratioCell(r: Ratio): string {
  const ok = meets(r);
  const target = r.target ? ` (target ${r.target.op} ${r.target.value}: ${ok ? "met" : "NOT met"})` : "";
  return `${r.label} = ${fmt(r.value)}${target}`;
}

/** A markdown report of all results (also printed to the terminal). */
export function toMarkdown(results: Result[], env: Record<string, string>): string {
  const lines: string[] = ["# medianode benchmarks", ""];
  lines.push(Object.entries(env).map(([k, v]) => `- ${k}: ${v}`).join("\n"), "");
  lines.push("| benchmark | metric | value | unit |", "| --- | --- | --- | --- |");
  for (const r of results) {
    for (const m of r.metrics) lines.push(`| ${r.name} | ${m.label} | ${fmt(m.value)} | ${m.unit} |`);
    for (const q of r.ratios) {
      const ok = meets(q);
      lines.push(`| ${r.name} | **${q.label}** | **${fmt(q.value)}** | ${q.target ? `target ${q.target.op} ${q.target.value}: ${ok ? "met" : "**NOT met**"}` : "ratio"} |`);
    }
  }
  lines.push("");
  for (const r of results) {
    lines.push(`## ${r.name}`, "", r.description, "");
    for (const n of r.notes) lines.push(`- ${n}`);
    if (r.notes.length) lines.push("");
  }
  return lines.join("\n");
}
