// What crosses HTTP between a `medianode worker --server` and the api node's media store
// (SPEC §1): the routes, the checksum header and the commit body, defined once for both sides.
import { Type as T, type Static } from "@sinclair/typebox";

export const WORKER_PREFIX = "/v1/worker";
/** Hex sha256 of the whole file: sent with each upload, returned with each source download. */
export const SHA256_HEADER = "x-medianode-sha256";
/**
 * The BullMQ lock token of the job's active run, sent with every upload, commit and discard:
 * the api node accepts them only from the worker holding that lock (issue #12 point 1).
 */
export const LOCK_HEADER = "x-medianode-lock";
/** The reason in a 400's details when an upload's bytes do not match its checksum (the worker retries). */
export const CHECKSUM_MISMATCH = "checksum_mismatch";
/**
 * One attempt of one run, as it appears in a route and as its folder is named:
 * `<run>-<attempt>-<tag>`. The random tag keeps a worker that lost its lock (a stall does not
 * count an attempt, so it has the same run and attempt number) out of the new owner's folder.
 */
export interface AttemptRef {
  run: number;
  attempt: number;
  tag: string;
}
export const ATTEMPT_PATTERN = /^([1-9][0-9]{0,8})-([1-9][0-9]{0,8})-([0-9a-f]{8})$/;
export const attemptKey = (ref: AttemptRef) => `${ref.run}-${ref.attempt}-${ref.tag}`;

const seg = (s: string) => encodeURIComponent(s);
/** `a/b c.ts` → `a/b%20c.ts`: each segment encoded, the slashes kept. */
export const encodeName = (name: string) => name.split("/").map(seg).join("/");

export const workerPaths = {
  hello: () => `${WORKER_PREFIX}/hello`,
  source: (id: string) => `${WORKER_PREFIX}/jobs/${seg(id)}/source`,
  attempt: (id: string, ref: AttemptRef) => `${WORKER_PREFIX}/jobs/${seg(id)}/attempts/${attemptKey(ref)}`,
  output: (id: string, ref: AttemptRef, name: string) => `${workerPaths.attempt(id, ref)}/outputs/${encodeName(name)}`,
  commit: (id: string, ref: AttemptRef) => `${workerPaths.attempt(id, ref)}/commit`,
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
