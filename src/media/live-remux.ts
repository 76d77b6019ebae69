// A broadcast into a channel (SPEC §12): ffmpeg reads the broadcaster's WebM or Ogg on stdin
// and writes Ogg Opus on stdout, one small page per packet so listeners get it at once.
// Opus is copied (a remux); anything else is transcoded.
import { dieWithParent } from "../process";

/** argv after the binary. Pure. */
export function liveRemuxArgs(o: { container: "webm" | "ogg"; opus: boolean; kbps?: number }): string[] {
  return [
    "-hide_banner", "-loglevel", "error", "-nostdin",
    // Start at once: the header is enough to know the stream (a bigger probe holds back
    // seconds of a 64 kbps broadcast before the first packet comes out).
    "-fflags", "+nobuffer", "-probesize", "4096", "-analyzeduration", "0",
    "-protocol_whitelist", "pipe", "-f", o.container === "webm" ? "webm" : "ogg", "-i", "pipe:0",
    "-map", "0:a:0", "-vn",
    ...(o.opus ? ["-c:a", "copy"] : ["-c:a", "libopus", "-b:a", `${o.kbps ?? 96}k`, "-ar", "48000"]),
    "-f", "ogg", "-page_duration", "20000", "-flush_packets", "1", "pipe:1",
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

export function startLiveRemux(ffmpeg: string, o: { container: "webm" | "ogg"; opus: boolean }): LiveRemux {
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
