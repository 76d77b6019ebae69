// Turns the three request forms of POST /v1/jobs (JSON, multipart, raw body) into a
// JobRequest plus a stored source. Uploads stream to <data>/media/<id>/source (or the media
// bucket's <id>/source) under the cap.
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { BadRequestError } from "../../errors";
import { newJobId } from "../../ids";
import { pipelineFor } from "../../jobs/registry";
import { JobRequest, type StoredSource } from "../../jobs/schema";
import type { ServiceDeps } from "../../services/deps";
import { checkRequest, type CheckedRequest } from "../../services/jobs";
import { checkImportPath } from "../../sources/import-path";
import { streamMultipart, streamToSink, tooLarge } from "../../sources/upload";
import { checkUrl, fetchHead } from "../../sources/url";
import { headNeedsHeic } from "../../media/heif";
import { inspectSource, inspectTarget, type Inspection } from "../../sources/validate";
import { imageSourceRequirement } from "../../jobs/image/args";
import { normalizeRequire, requirementOf } from "../../nodes/capabilities";
import { readJson } from "../body";

export interface Intake extends CheckedRequest {
  source: StoredSource;
  id?: string;
  /** Called when the job was not created after all (error, idempotent replay): drops the upload. */
  discard(): Promise<void>;
}

const JSON_MAX = 2 * 1024 * 1024;
// Room for multipart boundaries and text fields on top of the file itself.
const MULTIPART_SLACK = 1024 * 1024;

function parseJsonField(name: string, raw: string | null | undefined): unknown {
  if (raw === undefined || raw === null || raw === "") return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new BadRequestError(`field "${name}" must be JSON`);
  }
}

/** Form fields or query parameters → a checked JobRequest (without source). */
export function requestFromFields(get: (k: string) => string | null | undefined): JobRequest {
  const req: Record<string, unknown> = { type: get("type") ?? undefined };
  const options = parseJsonField("options", get("options"));
  if (options !== undefined) req.options = options;
  const metadata = parseJsonField("metadata", get("metadata"));
  if (metadata !== undefined) req.metadata = metadata;
  const notify = parseJsonField("notify", get("notify"));
  if (notify !== undefined) req.notify = notify;
  const priority = get("priority");
  if (priority) req.priority = Number(priority);
  const attempts = get("attempts");
  if (attempts) req.attempts = Number(attempts);
  for (const k of ["webhook", "idempotencyKey"]) {
    const v = get(k);
    if (v) req[k] = v;
  }
  return checkJobRequest(req);
}

// Compiled once: every submission passes this check.
const JobRequestCheck = TypeCompiler.Compile(JobRequest);

export function checkJobRequest(body: unknown): JobRequest {
  if (!JobRequestCheck.Check(body)) {
    const errors = [...JobRequestCheck.Errors(body)].slice(0, 10).map((e) => ({ path: e.path || "/", message: e.message }));
    throw new BadRequestError("invalid job request", { errors });
  }
  return body;
}

/** JSON sources: a URL (checked for SSRF now and again when fetched) or an import path. */
export async function storedSourceFor(deps: ServiceDeps, req: JobRequest, resolved?: Record<string, unknown>): Promise<StoredSource> {
  const s = req.source;
  if (!s) throw new BadRequestError("source is required: {url} or {path}, or upload a file");
  if ("url" in s) {
    const policy = { allowlist: deps.config.urlAllowlist, maxBytes: deps.config.maxUploadBytes, timeoutMs: 10_000 };
    await checkUrl(s.url, policy);
    if (req.type === "image") addSourceRequirement(req, resolved, { heic: await urlNeedsHeic(s.url, policy) });
    return { kind: "url", url: s.url };
  }
  const real = checkImportPath(s.path, deps.config.importDirs);
  addSourceRequirement(req, resolved, await inspectSource(real, pipelineFor(req.type).accepts, { ffprobe: deps.media.ffprobe, maxPixels: deps.media.maxPixels, limits: deps.media.limits }));
  return { kind: "path", path: real };
}

/** Bytes of a URL image read at submit: enough for ftyp and the meta box of any HEIF. */
const URL_SNIFF_BYTES = 64 * 1024;

/**
 * Routing must know at submit that a URL image is HEIC (only nodes with libheif take it), but
 * the worker downloads it: so the head is read here with a Range request. Best effort: a
 * source that does not answer now is the worker's to report (SOURCE_UNREACHABLE), as before.
 */
async function urlNeedsHeic(url: string, policy: { allowlist: string[]; maxBytes: number; timeoutMs: number }): Promise<boolean> {
  try {
    return headNeedsHeic(await fetchHead(url, { ...policy, timeoutMs: 5_000 }, URL_SNIFF_BYTES));
  } catch {
    return false;
  }
}

/**
 * A source that needs a capability (a HEIC photo) adds it to the request's options.require, so
 * routing sees it; `resolved` (the options already checked, when the request was) gets it too.
 */
function addSourceRequirement(req: JobRequest, resolved: Record<string, unknown> | undefined, inspected: Pick<Inspection, "heic">): void {
  const extra = req.type === "image" ? imageSourceRequirement(inspected) : [];
  if (!extra.length) return;
  const options = (req.options ?? {}) as Record<string, unknown>;
  const had = Array.isArray(options.require) ? (options.require as unknown[]) : [];
  req.options = { ...options, require: [...had, ...extra] };
  if (resolved) resolved.require = normalizeRequire([...requirementOf(resolved), ...extra]);
}

async function inspectUpload(deps: ServiceDeps, checked: CheckedRequest, id: string, bytes: number): Promise<void> {
  const req = checked.request;
  const target = await deps.mediaFiles.inspection(id, bytes);
  addSourceRequirement(req, checked.options, await inspectTarget(target, pipelineFor(req.type).accepts, { ffprobe: deps.media.ffprobe, maxPixels: deps.media.maxPixels, limits: deps.media.limits }));
}

export async function readIntake(deps: ServiceDeps, request: Request): Promise<Intake> {
  // Lower-case only for matching: the multipart boundary is case-sensitive.
  const rawCt = request.headers.get("content-type") ?? "";
  const ct = rawCt.toLowerCase();
  const noop = async () => {};
  if (ct.startsWith("application/json")) {
    const checked = checkRequest(checkJobRequest(await readJson(request, JSON_MAX)));
    const source = await storedSourceFor(deps, checked.request, checked.options);
    if (source.kind !== "path" || !deps.mediaFiles.copyIn) return { ...checked, source, discard: noop };
    // Media in a bucket: a {path} source is copied in once, here where the import folder is, so
    // a worker on any host reads it from the bucket (a batch's are copied by their first worker).
    const id = newJobId();
    await deps.mediaFiles.copyIn(id, source.path);
    return { ...checked, id, source, discard: () => deps.mediaFiles.discardSource(id) };
  }
  const max = deps.config.maxUploadBytes;
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (!request.body && ct.startsWith("multipart/")) throw new BadRequestError("empty multipart body");
  const id = newJobId();
  // The data dir or the media bucket (MEDIANODE_MEDIA_URL): streamed either way, under the cap.
  const sink = () => deps.mediaFiles.sourceSink(id);
  const discard = () => deps.mediaFiles.discardSource(id);
  try {
    if (ct.startsWith("multipart/form-data")) {
      if (Number.isFinite(declared) && declared > max + MULTIPART_SLACK) throw tooLarge(max);
      const mp = await streamMultipart(request.body!, rawCt, sink, max);
      if (!mp.file) throw new BadRequestError('multipart request has no "file" part');
      const req = requestFromFields((k) => mp.fields[k]);
      if (req.source) throw new BadRequestError("send either a file or a source, not both");
      const checked = checkRequest(req);
      await inspectUpload(deps, checked, id, mp.file.bytes);
      return { ...checked, id, source: { kind: "upload", filename: mp.file.filename.slice(0, 255), bytes: mp.file.bytes, mime: mp.file.mime }, discard };
    }
    // Raw body: everything but the bytes is in the query string, so check it before reading.
    const q = new URL(request.url).searchParams;
    const req = requestFromFields((k) => q.get(k));
    const checked = checkRequest(req);
    if (Number.isFinite(declared) && declared > max) throw tooLarge(max);
    const bytes = await streamToSink(request.body ?? new Response("").body!, sink(), max);
    await inspectUpload(deps, checked, id, bytes);
    const filename = q.get("filename") ?? undefined;
    return { ...checked, id, source: { kind: "upload", bytes, mime: ct || undefined, ...(filename ? { filename: filename.slice(0, 255) } : {}) }, discard };
  } catch (e) {
    await discard();
    throw e;
  }
}
