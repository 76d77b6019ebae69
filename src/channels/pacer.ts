// What to send a listener next (SPEC §12): a start burst of at most `leadSec`, then real time,
// a listener more than `skipBehindSec` behind the clock skipped forward to it (never buffered
// without bound). Positions are playlist seconds (clock.ts). Pure.
import { locate, type ClockState } from "./clock";
import { frameIndexAt, type StreamTrack, type TrackFrame } from "./track";

/** Audio sent ahead of the clock: the start burst, and the cushion kept after it (≤ 2 s, SPEC §12). */
export const LEAD_SEC = 1.5;
/** A listener further behind than this is skipped forward. */
export const SKIP_BEHIND_SEC = 4;

export interface PacePlan {
  fromSec: number;
  toSec: number;
  /** Seconds skipped forward (0: none); `fresh`: start at the frame playing at fromSec. */
  skippedSec: number;
  fresh: boolean;
}

export interface PaceInput {
  /** Playlist second of the next unsent frame; null before the first send. */
  cursorSec: number | null;
  clockSec: number;
  /** The socket still holds unsent bytes above its limit: send nothing this time. */
  blocked: boolean;
  leadSec?: number;
  skipBehindSec?: number;
}

export function planSend(i: PaceInput): PacePlan {
  const lead = Math.min(i.leadSec ?? LEAD_SEC, 2);
  const to = i.clockSec + lead;
  if (i.cursorSec === null) return { fromSec: i.clockSec, toSec: to, skippedSec: 0, fresh: true };
  const behind = i.clockSec - i.cursorSec;
  if (behind > (i.skipBehindSec ?? SKIP_BEHIND_SEC)) return { fromSec: i.clockSec, toSec: i.blocked ? i.clockSec : to, skippedSec: behind, fresh: true };
  return { fromSec: i.cursorSec, toSec: i.blocked ? i.cursorSec : to, skippedSec: 0, fresh: false };
}

export interface TrackSpan {
  index: number;
  lap: number;
  /** Playlist second this track starts at (this lap). */
  trackStartSec: number;
  frames: TrackFrame[];
}

export interface Collected {
  spans: TrackSpan[];
  /** Where the next send starts (the cursor). */
  nextSec: number;
  /** The playlist is over (non-looping) at nextSec. */
  ended: boolean;
}

const EPS = 1e-6;

/**
 * The frames whose start falls in [fromSec, toSec), across track changes and laps. A track
 * not loaded yet (`trackAt` null) stops the walk there: the cursor waits for it. Frames past a
 * track's scheduled length are dropped, and a file shorter than it leaves a gap, so the
 * schedule (the same on every node) decides what plays when.
 */
export function collectFrames(clock: Pick<ClockState, "tracksSec" | "loop">, trackAt: (index: number) => StreamTrack | null, plan: Pick<PacePlan, "fromSec" | "toSec" | "fresh">): Collected {
  const spans: TrackSpan[] = [];
  let sec = plan.fromSec;
  let fresh = plan.fresh;
  for (let guard = 0; guard < 10_000 && sec < plan.toSec; guard++) {
    const loc = locate(clock, sec);
    if (!loc) return { spans, nextSec: sec, ended: true };
    const track = trackAt(loc.index);
    if (!track) break;
    const schedSec = clock.tracksSec[loc.index]!;
    let i = fresh ? frameIndexAt(track, loc.offsetSec) : firstFrameFrom(track, loc.offsetSec);
    fresh = false;
    const frames: TrackFrame[] = [];
    while (i < track.frames.length) {
      const f = track.frames[i]!;
      if (f.startSec >= schedSec - EPS) break;
      if (loc.trackStartSec + f.startSec >= plan.toSec) break;
      frames.push(f);
      i++;
    }
    if (frames.length) spans.push({ index: loc.index, lap: loc.lap, trackStartSec: loc.trackStartSec, frames });
    const next = track.frames[i];
    if (next && next.startSec < schedSec - EPS) {
      sec = loc.trackStartSec + next.startSec;
      break;
    }
    sec = loc.trackStartSec + schedSec;
  }
  return { spans, nextSec: sec, ended: false };
}

function firstFrameFrom(t: StreamTrack, offsetSec: number): number {
  const i = frameIndexAt(t, offsetSec);
  const f = t.frames[i];
  return f && f.startSec < offsetSec - EPS ? i + 1 : i;
}
