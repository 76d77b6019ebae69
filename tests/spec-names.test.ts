// The SPEC's lists of events and metrics against the one place each is defined.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { EVENT_TYPES } from "../src/events/types";
import { EXTRA_METRIC_NAMES, METRIC_NAMES } from "../src/metrics/registry";
import { createMetrics } from "../src/metrics/registry";
import { JOB_ERROR_CODES } from "../src/errors";

const spec = readFileSync(new URL("../../shared/SPEC.md", import.meta.url), "utf8");
const section = (n: number) => spec.slice(spec.indexOf(`## ${n}.`), spec.indexOf(`## ${n + 1}.`));

test("event types are SPEC §4's, no more, no less", () => {
  const named = [...section(4).matchAll(/`((?:job|node|queue)\.[a-z]+)`/g)].map((m) => m[1]);
  expect([...new Set(named)].sort()).toEqual([...EVENT_TYPES].sort());
});

test("metric names are SPEC §9's, no more, no less", () => {
  const named = [...section(9).matchAll(/`(medianode_[a-z_]+)/g)].map((m) => m[1]);
  expect([...new Set(named)].sort()).toEqual([...METRIC_NAMES].sort());
  // The registry defines exactly these plus the documented extras.
  const defined = createMetrics().registry.getMetricsAsArray().map((m) => m.name).filter((n) => n.startsWith("medianode_"));
  expect(defined.sort()).toEqual([...METRIC_NAMES, ...EXTRA_METRIC_NAMES].sort());
});

test("job error codes are SPEC §2's fixed list", () => {
  const list = /code from a fixed list \(([^)]+)\)/.exec(section(2))![1]!.split(",").map((s) => s.trim());
  expect(list).toEqual([...JOB_ERROR_CODES]);
});
