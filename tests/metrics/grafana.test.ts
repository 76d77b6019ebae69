import { expect, test } from "bun:test";
import { METRIC_NAMES, EXTRA_METRIC_NAMES } from "../../src/metrics/registry";

test("the shipped Grafana dashboard is valid JSON and charts every medianode metric", async () => {
  const dash = (await Bun.file(new URL("../../docs/grafana-dashboard.json", import.meta.url)).json()) as { panels: { targets: { expr: string }[] }[] };
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr)).join("\n");
  for (const name of [...METRIC_NAMES, ...EXTRA_METRIC_NAMES]) expect(exprs).toContain(name);
});
