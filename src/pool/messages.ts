// Messages between the pool (main thread) and its media threads. Checked on arrival.
import { Type as T, type Static } from "@sinclair/typebox";
import { JobTypeSchema } from "../jobs/schema";

export const TaskInput = T.Object({
  jobId: T.String(),
  input: T.String(),
  inputProtocols: T.String(),
  outDir: T.String(),
  options: T.Record(T.String(), T.Unknown()),
  media: T.Object({
    ffmpeg: T.Union([T.String(), T.Null()]),
    ffprobe: T.Union([T.String(), T.Null()]),
    ffmpegFrom: T.Union([T.Literal("config"), T.Literal("path"), T.Literal("bundled"), T.Null()]),
    stallMs: T.Number(),
    timeoutMs: T.Number(),
    maxPixels: T.Number(),
    hwEncoders: T.Optional(T.Array(T.String())),
    heifConvert: T.Optional(T.Union([T.String(), T.Null()])),
  }),
});
export type TaskInput = Static<typeof TaskInput>;

export type ToThread =
  | { kind: "run"; taskId: number; type: Static<typeof JobTypeSchema>; task: TaskInput }
  | { kind: "cancel"; taskId: number; reason: "cancel" | "timeout" };

export type FromThread =
  | { kind: "ready" }
  | { kind: "progress"; taskId: number; progress: number; etaSec?: number; renditions?: Record<string, number> }
  | { kind: "done"; taskId: number; outputs: unknown[]; result: Record<string, unknown> }
  | { kind: "error"; taskId: number; error: { code: string; message: string; details?: unknown } };
