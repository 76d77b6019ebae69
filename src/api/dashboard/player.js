// The dashboard's player: a finished video or audio job plays from its playback URLs (SPEC §10),
// the same URLs a customer's site would use, so what plays here plays there. hls.js comes from
// the node itself (/dashboard/vendor/, embedded from npm; no CDN), loaded on the first play;
// a browser with native HLS and no MediaSource gets the playlist directly. The storyboard
// (storyboard.vtt sprite cues) shows a frame under the pointer on the timeline.

const PLAYBACK_TTL_SEC = 3600;
let hlsLoading = null;

/** Loads /dashboard/vendor/hls.min.js once (a script element: the CSP allows 'self' only). */
function loadHls() {
  hlsLoading ??= new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = "/dashboard/vendor/hls.min.js";
    s.onload = () => (window.Hls ? resolve(window.Hls) : reject(new Error("hls.js did not load")));
    s.onerror = () => reject(new Error("hls.js could not be fetched"));
    document.head.append(s);
  });
  return hlsLoading;
}

/** "00:01:02.500" or "01:02.500" → seconds. */
function vttTime(t) {
  const p = t.trim().split(":").map(Number);
  return p.reduce((acc, x) => acc * 60 + x, 0);
}

/** Sprite cues of storyboard.vtt: [{start, end, url, x, y, w, h}], url resolved against the VTT's. */
export function parseStoryboard(text, vttUrl) {
  const cues = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const lines = block.split(/\r?\n/).filter(Boolean);
    const i = lines.findIndex((l) => l.includes("-->"));
    if (i < 0 || !lines[i + 1]) continue;
    const [a, b] = lines[i].split("-->");
    const m = /^(.*?)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(lines[i + 1].trim());
    if (!m) continue;
    cues.push({ start: vttTime(a), end: vttTime(b.trim().split(/\s+/)[0]), url: new URL(m[1], vttUrl).href, x: +m[2], y: +m[3], w: +m[4], h: +m[5] });
  }
  return cues;
}

function el(tag, cls, attrs = {}) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, String(v));
  return e;
}

/** A timeline under the video: hovering shows the storyboard frame for that moment; a click seeks. */
function storyboardScrubber(video, cues) {
  const bar = el("div", "scrub", { role: "slider", "aria-label": "Seek (storyboard preview on hover)", tabindex: "0" });
  const fill = el("span", "scrub-fill");
  const tip = el("div", "scrub-tip");
  const time = el("span", "scrub-time small mono");
  tip.append(time);
  tip.hidden = true;
  bar.append(fill, tip);
  const duration = () => (Number.isFinite(video.duration) && video.duration > 0 ? video.duration : cues.at(-1)?.end ?? 0);
  const at = (ev) => {
    const r = bar.getBoundingClientRect();
    return Math.min(Math.max((ev.clientX - r.left) / r.width, 0), 1);
  };
  bar.addEventListener("mousemove", (ev) => {
    const f = at(ev);
    const t = f * duration();
    const cue = cues.find((c) => t >= c.start && t < c.end) ?? cues.at(-1);
    if (!cue) return;
    tip.hidden = false;
    tip.dataset.cue = String(cues.indexOf(cue));
    // CSSOM, not a style attribute: the dashboard's CSP has no 'unsafe-inline'.
    tip.style.width = `${cue.w}px`;
    tip.style.height = `${cue.h}px`;
    tip.style.backgroundImage = `url("${cue.url}")`;
    tip.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
    tip.style.left = `${Math.min(Math.max(f * bar.clientWidth - cue.w / 2, 0), Math.max(bar.clientWidth - cue.w, 0))}px`;
    time.textContent = `${Math.floor(t / 60)}:${String(Math.floor(t % 60)).padStart(2, "0")}`;
  });
  bar.addEventListener("mouseleave", () => (tip.hidden = true));
  bar.addEventListener("click", (ev) => {
    video.currentTime = at(ev) * duration();
  });
  video.addEventListener("timeupdate", () => {
    const d = duration();
    fill.style.width = d ? `${(video.currentTime / d) * 100}%` : "0";
  });
  return bar;
}

/**
 * Fills `box` with a player for a completed video or audio job. `api` is the dashboard's
 * authenticated fetch (the playback URLs themselves need no header). Returns a destroy().
 */
export function mountPlayer(box, job, api) {
  let hls = null;
  let dead = false;
  const status = el("p", "muted small");
  status.textContent = "Loading player…";
  box.append(status);
  (async () => {
    const pb = await api(`/v1/jobs/${encodeURIComponent(job.id)}/playback?ttl=${PLAYBACK_TTL_SEC}`);
    if (dead) return;
    status.remove();
    const names = new Set((job.outputs || []).map((o) => o.name));
    if (job.type === "audio") {
      const audio = el("audio", "player player-audio", { controls: "", preload: "metadata" });
      // Every rendition as a <source>: the browser takes the first it can play.
      for (const o of job.outputs || []) {
        if (/^audio\//.test(o.mime || "") && !o.name.includes("/")) audio.append(el("source", null, { src: pb.base + o.name, type: o.mime }));
      }
      box.append(audio);
      return;
    }
    const video = el("video", "player", { controls: "", preload: "metadata", playsinline: "", poster: pb.poster });
    box.append(video);
    const native = video.canPlayType("application/vnd.apple.mpegurl");
    const mse = "MediaSource" in window || "ManagedMediaSource" in window;
    if (pb.hls && mse) {
      const Hls = await loadHls();
      if (dead) return;
      if (Hls.isSupported()) {
        hls = new Hls({ workerPath: "/dashboard/vendor/hls.worker.js" });
        hls.loadSource(pb.hls);
        hls.attachMedia(video);
        video.dataset.engine = "hls.js";
      }
    }
    if (!hls) {
      video.src = pb.hls && native ? pb.hls : pb.mp4 || pb.hls;
      video.dataset.engine = "native";
    }
    if (names.has("storyboard.vtt")) {
      const vttUrl = pb.base + "storyboard.vtt";
      const res = await fetch(vttUrl);
      if (!dead && res.ok) {
        const cues = parseStoryboard(await res.text(), vttUrl);
        if (cues.length) box.append(storyboardScrubber(video, cues));
      }
    }
  })().catch((e) => {
    status.textContent = `Player unavailable: ${e.message}`;
    if (!status.isConnected) box.append(status);
  });
  return () => {
    dead = true;
    hls?.destroy();
  };
}
