import { statSync } from "node:fs";
import { PayloadTooLargeError, UnsupportedMediaError, InvalidInputError } from "../errors";
import { readImageInfo } from "../media/image";
import { mediaKind, probeFile, type MediaKind, type ProbeResult } from "../media/probe";
import { HEAD_BYTES, sniffHead } from "./sniff";
import { checkMediaLimits, type MediaLimits } from "../media/limits";

export interface Inspection {
  kind: MediaKind;
  mime: string;
  probe: ProbeResult | null;
  /** An HEVC-coded HEIF photo: only nodes with the "heic" capability can decode it. */
  heic?: boolean;
}

export interface InspectDeps {
  ffprobe: string | null;
  maxPixels: number;
  limits?: MediaLimits;
}

/**
 * A stored source as inspection reads it: a file on disk, or an object in the media bucket
 * (its first bytes for the sniff, a head for sharp's header read, a presigned URL for ffprobe).
 */
export interface InspectTarget {
  bytes: number;
  head(): Promise<Uint8Array>;
  /** What sharp reads the header from: the path, or enough of the first bytes. */
  image(): Promise<string | Uint8Array>;
  /** What ffprobe opens, under which protocol whitelist. */
  probe: { input: string; protocols?: string };
}

/**
 * Checks a stored source before a job is accepted (SPEC §7): magic bytes first, then a
 * header read (sharp for images, ffprobe otherwise). Anything that is not media of a kind
 * the job accepts is 415; a pixel bomb is 413.
 */
export async function inspectSource(path: string, accepts: readonly MediaKind[], deps: InspectDeps): Promise<Inspection> {
  const file = { bytes: statSync(path).size, head: () => Bun.file(path).slice(0, HEAD_BYTES).bytes(), image: async () => path, probe: { input: path } };
  return await inspectTarget(file, accepts, deps);
}

/** inspectSource for any target (a file, or an object in the media bucket). */
export async function inspectTarget(t: InspectTarget, accepts: readonly MediaKind[], deps: InspectDeps): Promise<Inspection> {
  if (t.bytes === 0) throw new UnsupportedMediaError("the file is empty (0 bytes)");
  const sniffed = await sniffHead(await t.head());
  if (!sniffed) throw new UnsupportedMediaError("not a media file (unrecognised content)");
  if (sniffed.kind === "image") {
    if (!accepts.includes("image")) throw new UnsupportedMediaError(`expected ${accepts.join(" or ")}, got an image (${sniffed.mime})`);
    let heic = false;
    try {
      heic = (await readImageInfo(await t.image(), { maxPixels: deps.maxPixels })).heic;
    } catch (e) {
      if (e instanceof InvalidInputError && /too large/.test(e.message)) throw new PayloadTooLargeError(e.message);
      throw new UnsupportedMediaError((e as Error).message);
    }
    return { kind: "image", mime: sniffed.mime, probe: null, heic };
  }
  if (!deps.ffprobe) throw new UnsupportedMediaError("cannot inspect audio/video: ffprobe is not installed");
  let probe: ProbeResult;
  try {
    probe = await probeFile(deps.ffprobe, t.probe.input, { timeoutMs: 30_000, protocols: t.probe.protocols });
  } catch (e) {
    throw new UnsupportedMediaError(`not readable media: ${(e as Error).message}`);
  }
  const kind = mediaKind(probe);
  if (!kind) throw new UnsupportedMediaError("the file has no audio or video stream", { format: probe.format });
  if (!accepts.includes(kind)) throw new UnsupportedMediaError(`expected ${accepts.join(" or ")}, got ${kind}`, { format: probe.format });
  if (deps.limits) checkMediaLimits(probe, t.bytes, deps.limits);
  return { kind, mime: sniffed.mime, probe };
}
