import { expect, test } from "bun:test";
import { createMetrics, METRIC_NAMES, EXTRA_METRIC_NAMES } from "../../src/metrics/registry";
import { VERSION } from "../../src/version";

test("the shipped Grafana dashboard is valid JSON and charts every medianode metric", async () => {
  const dash = (await Bun.file(new URL("../../docs/grafana-dashboard.json", import.meta.url)).json()) as { panels: { targets: { expr: string }[] }[] };
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr)).join("\n");
  for (const name of [...METRIC_NAMES, ...EXTRA_METRIC_NAMES]) expect(exprs).toContain(name);
});

test("the instance variable comes from a metric every process exports, worker-only ones too", async () => {
  const dash = (await Bun.file(new URL("../../docs/grafana-dashboard.json", import.meta.url)).json()) as { templating: { list: { name: string; query: string }[] } };
  const query = dash.templating.list.find((v) => v.name === "instance")!.query;
  const metric = /^label_values\((\w+), instance\)$/.exec(query)?.[1];
  expect(metric).toBeDefined();
  // A fresh registry is what a worker-only process serves before it has done anything: the
  // metric must already have a sample there (an api-only one such as the HTTP counter has none).
  const text = await createMetrics().registry.metrics();
  expect(text.split("\n").some((l) => l.startsWith(`${metric}{`) || l.startsWith(`${metric} `))).toBe(true);
  expect(text).toContain(`medianode_build_info{version="${VERSION}"} 1`);
});
