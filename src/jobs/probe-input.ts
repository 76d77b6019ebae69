import { InternalError } from "../errors";
import { probeFile, requireKind, type MediaKind, type ProbeResult } from "../media/probe";
import type { ProcessorContext } from "./pipeline";

/** The prologue of every ffmpeg pipeline: binaries present, source probed, of an accepted kind. */
export async function probeForJob(ctx: ProcessorContext<unknown>, kinds: MediaKind[]): Promise<{ ffmpeg: string; ffprobe: string; probe: ProbeResult }> {
  const { ffmpeg, ffprobe } = ctx.media;
  if (!ffmpeg || !ffprobe) throw new InternalError("ffmpeg/ffprobe not found: install them with apt-get install -y ffmpeg");
  const probe = await probeFile(ffprobe, ctx.input, { protocols: ctx.inputProtocols, signal: ctx.signal });
  requireKind(probe, kinds);
  return { ffmpeg, ffprobe, probe };
}
