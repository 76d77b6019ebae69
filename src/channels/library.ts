// The rendition files a monitor streams, read into frames once per file and shared by every
// listener (channels/track.ts). An AAC rendition is streamed from its ADTS copy beside the
// job's outputs (media/stream-remux.ts), made on first use.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log";
import { remuxToAdts } from "../media/stream-remux";
import type { LocalMediaStore } from "../storage/local";
import type { StreamRendition } from "./schema";
import { aacTrack, opusTrack, TrackError, type StreamTrack } from "./track";

/** Tracks kept in memory (a 5-minute 96 kbps track is ~3.6 MB). */
const MAX_TRACKS = 64;

export interface TrackLibrary {
  /** The loaded track, or null while it loads (or if it cannot: logged once). */
  get(jobId: string, r: StreamRendition): StreamTrack | null;
  /** Resolves once the track is loaded (or failed). */
  load(jobId: string, r: StreamRendition): Promise<StreamTrack | null>;
}

export function createTrackLibrary(deps: { files: LocalMediaStore; ffmpeg: string | null; log: Logger }): TrackLibrary {
  const loaded = new Map<string, StreamTrack>();
  const loading = new Map<string, Promise<StreamTrack | null>>();
  const failed = new Set<string>();
  const keyOf = (jobId: string, r: StreamRendition) => `${jobId}/${r.name}`;

  async function read(jobId: string, r: StreamRendition): Promise<StreamTrack> {
    const file = deps.files.outputFile(jobId, r.name);
    if (r.codec === "opus") return opusTrack(new Uint8Array(await Bun.file(file).arrayBuffer()));
    const dir = join(deps.files.jobDir(jobId), "stream");
    const adts = join(dir, `${r.name}.aac`);
    if (!existsSync(adts)) {
      if (!deps.ffmpeg) throw new TrackError("no ffmpeg on this node to remux the AAC rendition to ADTS");
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      await remuxToAdts(deps.ffmpeg, file, adts);
    }
    return aacTrack(new Uint8Array(await Bun.file(adts).arrayBuffer()));
  }

  const load = (jobId: string, r: StreamRendition): Promise<StreamTrack | null> => {
    const key = keyOf(jobId, r);
    const have = loaded.get(key);
    if (have) return Promise.resolve(have);
    if (failed.has(key)) return Promise.resolve(null);
    let p = loading.get(key);
    if (!p) {
      p = read(jobId, r)
        .then((t) => {
          if (loaded.size >= MAX_TRACKS) loaded.delete(loaded.keys().next().value!);
          loaded.set(key, t);
          return t;
        })
        .catch((e) => {
          failed.add(key);
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
