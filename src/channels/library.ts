// The rendition files a monitor streams, read into frames once per file and shared by every
// listener (channels/track.ts). The bytes come through the api side's media store (the data
// dir, or the bucket's object named by the job's out.json), so a monitor plays the same
// channels wherever the media lives. An AAC rendition is streamed from its ADTS copy
// (media/stream-remux.ts), made on first use and kept in the store's cache folder on this
// node: it is derived, so a lost copy is just made again.
import { existsSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log";
import { remuxToAdts } from "../media/stream-remux";
import type { MediaFiles } from "../storage/media-files";
import { outputAsFile, outputStat, readOutput } from "../storage/output-bytes";
import type { StreamRendition } from "./schema";
import { aacTrack, opusTrack, TrackError, type StreamTrack } from "./track";

/** Tracks kept in memory (a 5-minute 96 kbps track is ~3.6 MB). */
const MAX_TRACKS = 64;
/** A track that could not be loaded is tried again after this long (the bucket may be back). */
export const FAILED_RETRY_MS = 30_000;

export interface TrackLibrary {
  /** The loaded track, or null while it loads (or if it cannot: logged once per try). */
  get(jobId: string, r: StreamRendition): StreamTrack | null;
  /** Resolves once the track is loaded (or failed). */
  load(jobId: string, r: StreamRendition): Promise<StreamTrack | null>;
}

/**
 * The ADTS copy's file name in the job's cache folder: the output's name (encoded, so a nested
 * name stays one file) and its commit's size and mtime, so a rerun's new rendition never plays
 * an older copy. Pure.
 */
export function adtsCacheName(name: string, stat: { size: number; mtimeMs: number }): string {
  return `${encodeURIComponent(name)}.${stat.size}-${Math.round(stat.mtimeMs)}.aac`;
}

export function createTrackLibrary(deps: { files: Pick<MediaFiles, "locateOutput" | "cacheDir">; ffmpeg: string | null; log: Logger; now?: () => number }): TrackLibrary {
  const now = deps.now ?? Date.now;
  const loaded = new Map<string, StreamTrack>();
  const loading = new Map<string, Promise<StreamTrack | null>>();
  /** key → when it failed. */
  const failed = new Map<string, number>();
  const keyOf = (jobId: string, r: StreamRendition) => `${jobId}/${r.name}`;

  async function adts(jobId: string, r: StreamRendition): Promise<Uint8Array> {
    const loc = await deps.files.locateOutput(jobId, r.name, { read: true });
    const dir = deps.files.cacheDir(jobId);
    const name = adtsCacheName(r.name, outputStat(loc));
    const file = join(dir, name);
    if (!existsSync(file)) {
      if (!deps.ffmpeg) throw new TrackError("no ffmpeg on this node to remux the AAC rendition to ADTS");
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // ffmpeg reads the .m4a from a local file: in place, or the object copied next to the
      // cache (its moov may be at the end, which a pipe cannot seek to).
      const input = await outputAsFile(loc, dir, encodeURIComponent(r.name));
      try {
        await remuxToAdts(deps.ffmpeg, input.path, file);
      } finally {
        await input.release();
      }
      // An older commit's copy of the same rendition is no use any more.
      const prefix = `${encodeURIComponent(r.name)}.`;
      for (const f of await readdir(dir).catch(() => [] as string[])) if (f !== name && f.startsWith(prefix) && f.endsWith(".aac")) await rm(join(dir, f), { force: true });
    }
    return await Bun.file(file).bytes();
  }

  async function read(jobId: string, r: StreamRendition): Promise<StreamTrack> {
    if (r.codec === "opus") return opusTrack(await readOutput(await deps.files.locateOutput(jobId, r.name, { read: true })));
    return aacTrack(await adts(jobId, r));
  }

  const load = (jobId: string, r: StreamRendition): Promise<StreamTrack | null> => {
    const key = keyOf(jobId, r);
    const have = loaded.get(key);
    if (have) return Promise.resolve(have);
    const failedAt = failed.get(key);
    if (failedAt !== undefined && now() - failedAt < FAILED_RETRY_MS) return Promise.resolve(null);
    let p = loading.get(key);
    if (!p) {
      p = read(jobId, r)
        .then((t) => {
          if (loaded.size >= MAX_TRACKS) loaded.delete(loaded.keys().next().value!);
          loaded.set(key, t);
          failed.delete(key);
          return t;
        })
        .catch((e: unknown) => {
          failed.set(key, now());
          deps.log.warn("channel track cannot be streamed; it is skipped", { jobId, file: r.name, error: e });
          return null;
        })
        .finally(() => loading.delete(key));
      loading.set(key, p);
    }
    return p;
  };

  return {
    get(jobId, r) {
      const t = loaded.get(keyOf(jobId, r));
      if (t) return t;
      void load(jobId, r);
      return null;
    },
    load,
  };
}
