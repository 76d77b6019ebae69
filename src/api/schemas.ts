// What the HTTP API takes and gives, for route declarations and the OpenAPI document. Built
// from the schemas that own each fact (jobs/schema.ts, each type's options.ts, errors.ts,
// services' views); nothing here is a second definition.
import { Type as T, type TObject, type TSchema } from "@sinclair/typebox";
import type { OpenAPIV3 } from "openapi-types";
import { API_ERROR_CODES, HTTP_STATUS, JOB_ERROR_CODES, type ErrorCode } from "../errors";
import { Job, JobRequest, JobList } from "../jobs/schema";
import { PIPELINES, SUPPORTED_TYPES } from "../jobs/registry";
import { Requirement } from "../nodes/capabilities";

/** `{error: {code, message, details?}}`: every error answer (SPEC §3). */
export const ErrorBody = T.Object(
  {
    error: T.Object({
      code: T.Union([...JOB_ERROR_CODES, ...API_ERROR_CODES].map((c) => T.Literal(c))),
      message: T.String(),
      details: T.Optional(T.Unknown()),
    }),
  },
  { description: "An error: the code says what (docs/errors.md), the message says it for people" },
);

/** Error answers a route can give, by status (several codes may share one). */
export function errors(...codes: ErrorCode[]): Record<number, TSchema> {
  return Object.fromEntries(codes.map((c) => [HTTP_STATUS[c], ErrorBody]));
}

/** The auth failures every token-protected route can answer with. */
export const AUTH_ERRORS: ErrorCode[] = ["UNAUTHORIZED", "FORBIDDEN", "RATE_LIMITED"];

/** A job request per type, with that type's own options (for the document; intake checks JobRequest, then the options). */
const { type: _type, options: _options, ...common } = JobRequest.properties;
export const JobRequestByType = T.Union(
  SUPPORTED_TYPES.map((t) => {
    const opts = PIPELINES[t]!.options as TObject;
    const options = T.Object({ ...opts.properties, require: T.Optional(Requirement) }, { additionalProperties: false, description: opts.description ?? `${t} options (unknown keys are refused: 422)` });
    return T.Object({ type: T.Literal(t), ...common, options: T.Optional(options) }, { additionalProperties: false, title: `${t} job request` });
  }),
);

/**
 * Response schemas as plain TSchema: Elysia validates answers against them at run time (and the
 * document shows them), while the handlers' return types come from the same schemas' Static
 * types in their own modules. (Elysia's own static mapping turns unions of literals built with
 * .map() into never, so it cannot type-check handlers against these.)
 */
const out = (s: TSchema): TSchema => s;
export const JobOut = out(Job);
export const JobListOut = out(JobList);
export const JobItemsOut = out(T.Object({ items: T.Array(Job) }));
export const ErrorOut = out(ErrorBody);
export { out };
/**
 * OpenAPI responses written out, for routes that answer with a Response of their own (files,
 * 204, 416) where no run-time check applies: a schema is a JSON body, a string a bodyless answer.
 */
export function docResponses(map: Record<number, TSchema | string>, binary: number[] = []): OpenAPIV3.ResponsesObject {
  return Object.fromEntries(
    Object.entries(map).map(([status, v]) => {
      if (typeof v === "string") return [status, { description: v }];
      const type = binary.includes(Number(status)) ? "*/*" : "application/json";
      return [status, { description: v.description ?? (Number(status) < 300 ? "OK" : "Error"), content: { [type]: { schema: v as OpenAPIV3.SchemaObject } } }];
    }),
  );
}
export const Binary = T.String({ format: "binary", description: "The file; Content-Type is its own (application/vnd.apple.mpegurl, video/mp4, image/webp…)" });

/** An OpenAPI request body for a route that reads its body itself (streamed uploads, size caps). */
export function requestBody(content: Record<string, TSchema>, description: string, required = true) {
  return { required, description, content: Object.fromEntries(Object.entries(content).map(([type, schema]) => [type, { schema }])) };
}

export const IdParams = T.Object({ id: T.String({ description: "Job id (j_…)" }) });
