// Job type → pipeline. Refuses to build if a type has no pipeline or two (as Immich's job repository does).
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { CAPABILITY_PATTERN } from "../config/schema";
import { JOB_TYPES, type JobType } from "../jobs/schema";
import { MAX_REQUIRE, normalizeRequire, Requirement } from "../nodes/capabilities";
import { InvalidOptionsError } from "../errors";
import type { Pipeline } from "./pipeline";
import { audioPipeline } from "./audio/processor";
import { imagePipeline } from "./image/processor";
import { probePipeline } from "./probe/processor";
import { thumbnailPipeline } from "./thumbnail/processor";
import { videoPipeline } from "./video/processor";

// Each pipeline is typed by its own options; the registry only needs the common shape.
const ALL = [probePipeline, imagePipeline, videoPipeline, audioPipeline, thumbnailPipeline] as unknown as Pipeline[];

function build(list: Pipeline[]): Partial<Record<JobType, Pipeline>> {
  const map: Partial<Record<JobType, Pipeline>> = {};
  for (const p of list) {
    if (map[p.type]) throw new Error(`two pipelines for job type ${p.type}`);
    map[p.type] = p;
  }
  return map;
}

export const PIPELINES = build(ALL);

// Options are checked on every submission: compile each schema once.
const CHECKS = new Map(ALL.map((p) => [p.type, TypeCompiler.Compile(p.options)]));

/** Job types this build can run. */
export const SUPPORTED_TYPES: JobType[] = JOB_TYPES.filter((t) => PIPELINES[t]);

export function pipelineFor(type: JobType): Pipeline {
  const p = PIPELINES[type];
  if (!p) throw new InvalidOptionsError(`job type "${type}" is not available on this node`);
  return p;
}

const REQUIRE_CHECK = TypeCompiler.Compile(Requirement);

/**
 * Checks options against the type's schema (unknown keys refused) and fills defaults.
 * `require` is common to every type: checked here once, stored sorted and without repeats.
 */
export function resolveOptions(type: JobType, input: unknown): Record<string, unknown> {
  const p = pipelineFor(type);
  let raw = input ?? {};
  let require: string[] | null = null;
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw) && "require" in raw) {
    const { require: r, ...rest } = raw as Record<string, unknown>;
    if (!REQUIRE_CHECK.Check(r)) {
      const errors = [...REQUIRE_CHECK.Errors(r)].slice(0, 10).map((e) => ({ path: `/require${e.path}`, message: e.message }));
      throw new InvalidOptionsError(`invalid options.require for ${type} job: 1 to ${MAX_REQUIRE} capability names (${CAPABILITY_PATTERN})`, { errors });
    }
    require = normalizeRequire(r);
    raw = rest;
  }
  const check = CHECKS.get(type)!;
  if (!check.Check(raw)) {
    const errors = [...check.Errors(raw)].slice(0, 10).map((e) => ({ path: e.path || "/", message: e.message }));
    throw new InvalidOptionsError(`invalid options for ${type} job`, { errors });
  }
  const resolved = p.defaults(raw as never) as Record<string, unknown>;
  // What the options imply (a codec's encoder, an explicit hardware method) joins the explicit requirement.
  const implied = p.requires?.(resolved as never) ?? [];
  if (implied.length) require = normalizeRequire([...(require ?? []), ...implied]);
  return require ? { ...resolved, require } : resolved;
}
