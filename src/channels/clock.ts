// The channel clock (SPEC §12): where a channel is at a given instant, computed from what
// every monitor node shares through Redis (the epoch, the tracks' durations, the time spent
// live), never from a node's own history. Two nodes asking at the same instant get the same
// answer, so their listeners hear the same position. Pure: the caller passes `nowMs`.

export interface ClockState {
  /** When the playlist's position 0 was (ms since the Unix epoch). */
  epochMs: number;
  loop: boolean;
  /** Each track's scheduled length, in playlist order. */
  tracksSec: number[];
  /** Time the playlist stood still for broadcasts that have ended (it resumes where it was). */
  pausedSec: number;
  /** Set while a broadcaster is on: the playlist stands still from then on. */
  liveSinceMs: number | null;
}

export interface Located {
  index: number;
  /** Seconds into that track. */
  offsetSec: number;
  /** How many times the playlist has wrapped (0 on the first pass). */
  lap: number;
  /** Playlist seconds at which this track (this lap) starts. */
  trackStartSec: number;
}

export const totalSec = (c: Pick<ClockState, "tracksSec">) => c.tracksSec.reduce((s, d) => s + d, 0);

/** Playlist seconds at `nowMs`: wall time since the epoch, minus time spent live. */
export function playlistSec(c: ClockState, nowMs: number): number {
  const until = c.liveSinceMs !== null ? Math.min(nowMs, c.liveSinceMs) : nowMs;
  return Math.max(0, (until - c.epochMs) / 1000 - c.pausedSec);
}

/** The track and offset at playlist second `sec`; null once a non-looping playlist is over. */
export function locate(c: Pick<ClockState, "tracksSec" | "loop">, sec: number): Located | null {
  const total = totalSec(c);
  if (total <= 0 || sec < 0) return null;
  if (!c.loop && sec >= total) return null;
  const lap = Math.floor(sec / total);
  let rest = sec - lap * total;
  let start = lap * total;
  for (let i = 0; i < c.tracksSec.length; i++) {
    const d = c.tracksSec[i]!;
    if (rest < d) return { index: i, offsetSec: rest, lap, trackStartSec: start };
    rest -= d;
    start += d;
  }
  // Floating-point edge at the very end of a lap: the next lap's first track.
  return { index: 0, offsetSec: 0, lap: lap + 1, trackStartSec: (lap + 1) * total };
}

/** A broadcast starts: the playlist stands still from `nowMs`. */
export function goLive<C extends Pick<ClockState, "liveSinceMs">>(c: C, nowMs: number): C {
  return c.liveSinceMs !== null ? c : { ...c, liveSinceMs: nowMs };
}

/** The broadcast ends: the playlist resumes where it stood when the broadcast began. */
export function endLive<C extends Pick<ClockState, "liveSinceMs" | "pausedSec">>(c: C, nowMs: number): C {
  if (c.liveSinceMs === null) return c;
  return { ...c, liveSinceMs: null, pausedSec: c.pausedSec + Math.max(0, nowMs - c.liveSinceMs) / 1000 };
}
