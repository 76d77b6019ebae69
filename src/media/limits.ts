// Bounds on the work a source may cause (issue #12 point 4): a 1.3 KB file with timestamp
// gaps claimed 7201 s and made 10,799 frames and 1,800 segments. Checked at intake (and for a
// URL source once the worker has it) and, while encoding, against the probed duration. Pure.
import { InvalidInputError } from "../errors";
import type { ProbeResult } from "./probe";

export interface MediaLimits {
  /** MEDIANODE_MAX_DURATION_SEC */
  maxDurationSec: number;
  /** MEDIANODE_MAX_FRAME_PIXELS */
  maxFramePixels: number;
  /** MEDIANODE_MIN_SOURCE_BYTES_PER_SEC (0 = off) */
  minBytesPerSec: number;
}

/** Shorter sources are not held to the bytes-per-second floor (container overhead dominates). */
const DENSITY_MIN_DURATION_SEC = 60;

/** Throws INVALID_INPUT when a probed source is longer, larger per frame or emptier than the limits. */
export function checkMediaLimits(probe: Pick<ProbeResult, "durationSec" | "streams">, sizeBytes: number, limits: MediaLimits): void {
  const d = probe.durationSec;
  if (d !== null && d > limits.maxDurationSec) {
    throw new InvalidInputError(`the source is ${Math.round(d)} s long; this node accepts at most ${limits.maxDurationSec} s (MEDIANODE_MAX_DURATION_SEC)`, { durationSec: d });
  }
  for (const s of probe.streams) {
    if (s.type !== "video" || !s.width || !s.height) continue;
    if (s.width * s.height > limits.maxFramePixels) {
      throw new InvalidInputError(`a ${s.width}x${s.height} frame is over ${limits.maxFramePixels} pixels (MEDIANODE_MAX_FRAME_PIXELS)`, { width: s.width, height: s.height });
    }
  }
  if (limits.minBytesPerSec > 0 && d !== null && d >= DENSITY_MIN_DURATION_SEC && sizeBytes / d < limits.minBytesPerSec) {
    throw new InvalidInputError(`the source claims ${Math.round(d)} s in only ${sizeBytes} bytes (${(sizeBytes / d).toFixed(2)} bytes/s, under MEDIANODE_MIN_SOURCE_BYTES_PER_SEC=${limits.minBytesPerSec}): its timestamps do not describe real media`, {
      durationSec: d,
      sizeBytes,
    });
  }
}

/**
 * How far an encode may run past the probed duration before it is stopped: output frames and
 * segments then stay within the duration the limits were checked against (25 % and 30 s slack
 * for estimates from headers). Null: no probed duration to hold it to.
 */
export function outTimeBoundSec(durationSec: number | null | undefined): number | null {
  return durationSec && durationSec > 0 ? durationSec * 1.25 + 30 : null;
}
