// What the api side needs from the media store (SPEC §11): receive an upload, let it be
// inspected, serve committed outputs, remove a job's files. Two back-ends: the data dir
// (createLocalFiles, below) and the media bucket (s3-files.ts). The routes and services call
// these and do not know which one they have; roles/ picks one from MEDIANODE_MEDIA_URL.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileSink, type UploadSink } from "../sources/upload";
import { HEAD_BYTES } from "../sources/sniff";
import type { InspectTarget } from "../sources/validate";
import type { LocalMediaStore } from "./local";

/**
 * Where a committed output's bytes are, for the routes that serve it (api/static-file/serve.ts):
 * a file on disk (sendfile), an object read through the node (with its committed size and
 * mtime, so ETag/Range/304 are planned exactly as for a file), or a presigned URL to redirect to.
 */
export type OutputLocation =
  | { kind: "file"; path: string }
  | { kind: "object"; stat: { size: number; mtimeMs: number }; read(start: number, endInclusive: number): Promise<Uint8Array> }
  | { kind: "redirect"; url: string; expiresInSec: number };

export interface LocateOptions {
  /** Longest a presigned redirect may stay valid (a playback token's remaining life, say). */
  maxPresignSec?: number;
  /**
   * The caller reads the bytes itself (a channel loading a track): a file or an object, never a
   * redirect, so the node needs no HTTP client of its own for a presigned URL.
   */
  read?: boolean;
}

export interface MediaFiles {
  kind: "local" | "bucket";
  /** The local media folder: its free space is a readiness check, its paths are hidden from messages. */
  root: string;
  /** Where an upload streams: a file, or a multipart upload into the bucket. */
  sourceSink(id: string): UploadSink;
  /**
   * The stored upload as inspection reads it. `bytes`: what the intake counted while streaming it
   * in (the sink has them all), so no stat of the stored copy is needed.
   */
  inspection(id: string, bytes: number): Promise<InspectTarget>;
  /** Copies a local file in as a job's source (the bucket: a `{path}` source, once); absent where files stay in place. */
  copyIn?(id: string, path: string): Promise<void>;
  /** Drops what an upload left (the job was not created: a refusal, an idempotent replay). */
  discardSource(id: string): Promise<void>;
  /** A committed output of a job (NOT_FOUND when the job has no such output committed). */
  locateOutput(id: string, name: string, o?: LocateOptions): Promise<OutputLocation>;
  /**
   * A folder of this node's for files derived from a job's outputs (a channel's ADTS copy of an
   * AAC rendition): rebuilt at will, never the record of anything, removed with the job here.
   * It may not exist yet.
   */
  cacheDir(id: string): string;
  /** Removes every file of a job (retention, deletion). */
  removeJob(id: string): Promise<void>;
  /** Readiness of the store itself beyond local disk (the bucket answers, takes our credentials). */
  check?(): Promise<{ ok: boolean; detail: string }>;
}

/** The data dir as the api side's media store (files in place; served with sendfile). */
export function createLocalFiles(store: LocalMediaStore): MediaFiles {
  return {
    kind: "local",
    root: store.root,
    sourceSink: (id) => fileSink(store.sourcePath(id)),
    async inspection(id, bytes) {
      const path = store.sourcePath(id);
      return { bytes, head: () => Bun.file(path).slice(0, HEAD_BYTES).bytes(), image: async () => path, probe: { input: path } };
    },
    discardSource: (id) => rm(store.jobDir(id), { recursive: true, force: true }),
    locateOutput: async (id, name) => ({ kind: "file", path: store.outputFile(id, name) }),
    // In the job's folder, so the job's removal (retention) takes it along.
    cacheDir: (id) => join(store.jobDir(id), "stream"),
    removeJob: (id) => store.removeJob(id),
  };
}
