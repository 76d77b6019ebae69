// A broadcast into a channel (SPEC §12): ffmpeg reads the broadcaster's WebM or Ogg on stdin
// and writes the channel's stream formats on stdout as it goes. Ogg Opus: one small page per
// packet so listeners get it at once; Opus is copied (a remux), anything else is transcoded.
// ADTS AAC (for the listeners of a channel's AAC renditions): always an encode, one frame
// flushed at a time.
import { dieWithParent } from "../process";

export interface LiveRemuxOptions {
  container: "webm" | "ogg";
  opus: boolean;
  /** Opus bitrate when the input must be transcoded. */
  kbps?: number;
  /** What to write: Ogg Opus (default) or ADTS AAC at `aac`'s bitrate and sample rate. */
  aac?: { kbps: number; sampleRate: number; channels: number };
}

/** argv after the binary. Pure. */
export function liveRemuxArgs(o: LiveRemuxOptions): string[] {
  return [
    "-hide_banner", "-loglevel", "error", "-nostdin",
    // Start at once: the header is enough to know the stream (a bigger probe holds back
    // seconds of a 64 kbps broadcast before the first packet comes out).
    "-fflags", "+nobuffer", "-probesize", "4096", "-analyzeduration", "0",
    "-protocol_whitelist", "pipe", "-f", o.container === "webm" ? "webm" : "ogg", "-i", "pipe:0",
    "-map", "0:a:0", "-vn",
    ...(o.aac
      ? ["-c:a", "aac", "-b:a", `${o.aac.kbps}k`, "-ar", String(o.aac.sampleRate), "-ac", String(o.aac.channels), "-f", "adts"]
      : [...(o.opus ? ["-c:a", "copy"] : ["-c:a", "libopus", "-b:a", `${o.kbps ?? 96}k`, "-ar", "48000"]), "-f", "ogg", "-page_duration", "20000"]),
    "-flush_packets", "1", "pipe:1",
  ];
}

export interface LiveRemux {
  write(b: Uint8Array): void;
  /** Ends the input; resolves with ffmpeg's exit code once it has written everything. */
  end(): Promise<number>;
  stdout: ReadableStream<Uint8Array>;
  kill(): void;
  stderr(): Promise<string>;
}

export function startLiveRemux(ffmpeg: string, o: LiveRemuxOptions): LiveRemux {
  const proc = Bun.spawn(dieWithParent([ffmpeg, ...liveRemuxArgs(o)]), { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  let ended = false;
  return {
    write(b) {
      if (ended) return;
      proc.stdin.write(b);
      void proc.stdin.flush();
    },
    async end() {
      if (!ended) {
        ended = true;
        await proc.stdin.end();
      }
      return await proc.exited;
    },
    stdout: proc.stdout,
    kill: () => proc.kill("SIGKILL"),
    stderr: () => new Response(proc.stderr).text(),
  };
}
