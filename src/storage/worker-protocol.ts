// What crosses HTTP between a `medianode worker --server` and the api node's media store
// (SPEC §1): the routes, the checksum header and the commit body, defined once for both sides.
import { Type as T, type Static } from "@sinclair/typebox";

export const WORKER_PREFIX = "/v1/worker";
/** Hex sha256 of the whole file: sent with each upload, returned with each source download. */
export const SHA256_HEADER = "x-medianode-sha256";
/** The reason in a 400's details when an upload's bytes do not match its checksum (the worker retries). */
export const CHECKSUM_MISMATCH = "checksum_mismatch";
/** One attempt of one run, as it appears in a route: `<run>-<attempt>`. */
export const ATTEMPT_PATTERN = /^([1-9][0-9]{0,8})-([1-9][0-9]{0,8})$/;

const seg = (s: string) => encodeURIComponent(s);
/** `a/b c.ts` → `a/b%20c.ts`: each segment encoded, the slashes kept. */
export const encodeName = (name: string) => name.split("/").map(seg).join("/");

export const workerPaths = {
  hello: () => `${WORKER_PREFIX}/hello`,
  source: (id: string) => `${WORKER_PREFIX}/jobs/${seg(id)}/source`,
  attempt: (id: string, run: number, attempt: number) => `${WORKER_PREFIX}/jobs/${seg(id)}/attempts/${run}-${attempt}`,
  output: (id: string, run: number, attempt: number, name: string) => `${workerPaths.attempt(id, run, attempt)}/outputs/${encodeName(name)}`,
  commit: (id: string, run: number, attempt: number) => `${workerPaths.attempt(id, run, attempt)}/commit`,
};

export const CommitBody = T.Object(
  {
    files: T.Array(T.Object({ name: T.String({ minLength: 1, maxLength: 1024 }), bytes: T.Integer({ minimum: 0 }) }, { additionalProperties: false }), {
      maxItems: 100_000,
      description: "Every output the worker uploaded; the api node checks each is there with its size before moving the attempt into out/.",
    }),
  },
  { additionalProperties: false },
);
export type CommitBody = Static<typeof CommitBody>;

export const HelloReply = T.Object({ version: T.String(), maxUploadBytes: T.Integer() });
export type HelloReply = Static<typeof HelloReply>;
