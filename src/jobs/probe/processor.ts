import { probeFile, mediaKind } from "../../media/probe";
import { InternalError } from "../../errors";
import type { Pipeline } from "../pipeline";
import { ProbeOptions } from "./options";

export const probePipeline: Pipeline<typeof ProbeOptions> = {
  type: "probe",
  options: ProbeOptions,
  defaults: () => ({}),
  accepts: ["video", "audio", "image"],
  async run(ctx) {
    if (!ctx.media.ffprobe) throw new InternalError("ffprobe not found: install it with apt-get install -y ffmpeg");
    ctx.progress({ progress: 10 });
    const probe = await probeFile(ctx.media.ffprobe, ctx.input, { protocols: ctx.inputProtocols, signal: ctx.signal, timeoutMs: ctx.media.timeoutMs });
    ctx.progress({ progress: 100 });
    return { outputs: [], result: { ...probe, kind: mediaKind(probe) } };
  },
};
