// The reference pages in docs/ against the one place each fact is defined: a name added to
// the code and not documented (or documented and gone) fails here. Replaces the check that
// read the SPEC from outside the repository.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createApp } from "../../src/api/app";
import { EVENTS_PATH } from "../../src/api/events-ws/hub";
import { LIVE_PATH } from "../../src/api/live-ws/index";
import { STREAM_PATH } from "../../src/api/stream-ws/index";
import { CONFIG_KEYS, defaultConfig } from "../../src/config/schema";
import { API_ERROR_CODES, HTTP_STATUS, JOB_ERROR_CODES } from "../../src/errors";
import { EVENT_TYPES } from "../../src/events/types";
import { createMetrics, EXTRA_METRIC_NAMES, METRIC_NAMES } from "../../src/metrics/registry";
import type { ServiceDeps } from "../../src/services/deps";

const doc = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), "utf8");

/** The cells of every table row whose first cell is `code`, as arrays of trimmed strings. */
function tableRows(markdown: string): string[][] {
  return markdown
    .split("\n")
    .filter((l) => /^\|\s*`/.test(l))
    .map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
}
const unquote = (cell: string) => /^`([^`]+)`$/.exec(cell)?.[1] ?? cell;
/** Rows of the table that follows `heading` (up to the next heading). */
const section = (markdown: string, heading: string) => {
  const from = markdown.indexOf(heading);
  expect(from).toBeGreaterThanOrEqual(0);
  const rest = markdown.slice(from + heading.length);
  const end = rest.search(/\n#+ /);
  return end < 0 ? rest : rest.slice(0, end);
};

test("docs/events.md lists src/events/types.ts's events, no more, no less", () => {
  const named = tableRows(doc("events.md")).map((r) => unquote(r[0]!));
  expect(named).toEqual([...EVENT_TYPES]);
});

test("docs/metrics.md lists every metric the registry defines, with its type and labels", async () => {
  const rows = tableRows(doc("metrics.md")).map((r) => ({ name: unquote(r[0]!), type: r[1]!, labels: r[2]!.split(",").map((s) => s.trim()).filter(Boolean) }));
  const defined = (await createMetrics().registry.getMetricsAsJSON()).map((m) => ({ name: m.name, type: String(m.type), labels: [] as string[] }));
  const labelsOf = new Map(createMetrics().registry.getMetricsAsArray().map((m) => [(m as unknown as { name: string }).name, (m as unknown as { labelNames?: string[] }).labelNames ?? []]));
  for (const d of defined) d.labels = [...labelsOf.get(d.name)!];
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  expect(rows.sort(byName)).toEqual(defined.sort(byName));
  // The registry's own lists name the same medianode_* metrics.
  expect(rows.map((r) => r.name).filter((n) => n.startsWith("medianode_")).sort()).toEqual([...METRIC_NAMES, ...EXTRA_METRIC_NAMES].sort());
});

test("docs/configuration.md lists every key of src/config/schema.ts with its variable", () => {
  const rows = tableRows(doc("configuration.md")).map((r) => [unquote(r[1]!), unquote(r[0]!)]);
  expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(CONFIG_KEYS).map(([k, s]) => [k, s.env])));
  expect(rows.length).toBe(Object.keys(CONFIG_KEYS).length);
  // Defaults written as plain numbers or words must be the code's (sizes and lists are prose).
  const defaults = defaultConfig(2) as unknown as Record<string, unknown>;
  for (const r of tableRows(doc("configuration.md"))) {
    const key = unquote(r[1]!);
    const shown = /^`([^`]+)`$/.exec(r[2]!)?.[1];
    const actual = defaults[key];
    if (shown === undefined || (typeof actual !== "number" && typeof actual !== "string")) continue;
    if (/^\d+$/.test(shown) || typeof actual === "string") expect(`${key}=${shown}`).toBe(`${key}=${String(actual)}`);
  }
});

describe("docs/errors.md", () => {
  const md = doc("errors.md");
  test("job codes: SPEC §2's fixed list from src/errors.ts, in order, with their status", () => {
    const rows = tableRows(section(md, "## Job error codes"));
    expect(rows.map((r) => unquote(r[0]!))).toEqual([...JOB_ERROR_CODES]);
    for (const r of rows) expect(`${r[0]} ${r[1]}`).toBe(`${r[0]} ${HTTP_STATUS[unquote(r[0]!) as keyof typeof HTTP_STATUS]}`);
  });
  test("request codes: the API-only codes with their status", () => {
    const rows = tableRows(section(md, "## Request error codes"));
    expect(rows.map((r) => unquote(r[0]!))).toEqual([...API_ERROR_CODES]);
    for (const r of rows) expect(`${r[0]} ${r[1]}`).toBe(`${r[0]} ${HTTP_STATUS[unquote(r[0]!) as keyof typeof HTTP_STATUS]}`);
  });
});

test("docs/api.md lists every route the app serves (and the WebSockets), no more, no less", () => {
  // Building the app only registers routes: nothing here is called, so no Redis or SQLite.
  // A playback secret in the config, so building the app writes no secret file into ./data.
  const deps = { config: { ...defaultConfig(2), playbackSecret: "s".repeat(32) }, metrics: createMetrics() } as unknown as ServiceDeps;
  const served = createApp(deps, { scrape: async () => {} })
    .app.routes.filter((r) => !r.path.startsWith("/dashboard/") && !r.path.startsWith("/docs/assets/"))
    .map((r) => `${r.method} ${r.path}`);
  served.push(`GET ${EVENTS_PATH}`, `GET ${STREAM_PATH}`, `GET ${LIVE_PATH}`);
  const documented = tableRows(doc("api.md")).map((r) => unquote(r[0]!));
  expect(documented.sort()).toEqual(served.sort());
});
