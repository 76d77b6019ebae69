// medianode dashboard: vanilla ES module, no build step. Initial lists come from the REST
// API (/v1), then the WebSocket /v1/events keeps them live (SPEC §3, §4). Nothing here
// writes HTML from data: every text goes through textContent, so a filename or an error
// message cannot inject markup. Styles are classes or CSSOM (the CSP forbids inline ones).

import { mountPlayer } from "./player.js";

const TOKEN_KEY = "medianode.token";
const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const PAGE = 50;

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** Small element builder: h("span", { class: "x", text: "hi" }, child…). */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k === "data") for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = dv;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY) || "",
  /** @type {Map<string, any>} */ jobs: new Map(),
  /** @type {Map<string, HTMLTableRowElement>} */ rows: new Map(),
  /** @type {Set<string>} */ open: new Set(),
  filter: "",
  cursor: null,
  queues: [],
  nodesSeen: new Map(),
  nodesApi: true,
  ws: null,
  wsTry: 0,
  wsTimer: 0,
  pendingFetch: new Map(),
  refreshTimer: 0,
  refreshDirty: false,
  /** @type {Map<string, () => void>} destroy() of each open player, by job id */ players: new Map(),
};

// ---------- formatting ----------
const fmtPct = (p) => `${Math.round(p ?? 0)}%`;
function fmtEta(sec) {
  if (sec === undefined || sec === null || !Number.isFinite(sec)) return "";
  sec = Math.max(0, Math.round(sec));
  if (sec < 60) return `${sec}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m ${String(sec % 60).padStart(2, "0")}s`;
  return `${Math.floor(sec / 3600)}h ${String(Math.floor((sec % 3600) / 60)).padStart(2, "0")}m`;
}
function fmtAgo(iso) {
  if (!iso) return "";
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (s < 5) return "just now";
  if (s < 60) return `${Math.floor(s)}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return new Date(iso).toLocaleDateString();
}
function fmtBytes(n) {
  if (n === null || n === undefined) return "";
  const u = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) (n /= 1024), i++;
  return `${n < 10 && i ? n.toFixed(1) : Math.round(n)} ${u[i]}`;
}
function fmtDuration(a, b) {
  if (!a || !b) return "";
  return fmtEta((Date.parse(b) - Date.parse(a)) / 1000);
}
const shortId = (id) => (id.length > 10 ? `${id.slice(0, 4)}…${id.slice(-6)}` : id);

// ---------- toasts ----------
function toast(message, kind = "info") {
  const t = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status", text: message });
  $("toasts").append(t);
  setTimeout(() => t.classList.add("toast-out"), kind === "error" ? 6000 : 3500);
  setTimeout(() => t.remove(), kind === "error" ? 6400 : 3900);
}

// ---------- API ----------
class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, init = {}) {
  const headers = { authorization: `Bearer ${state.token}`, ...(init.headers || {}) };
  const res = await fetch(path, { ...init, headers });
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const err = new ApiError(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? (text.slice(0, 200) || res.statusText));
    if (res.status === 401) signOut(`Token refused (401): ${err.message}`);
    throw err;
  }
  return body;
}

function reportError(what, e) {
  if (e instanceof ApiError && e.status === 401) return; // the login screen says it
  if (e instanceof ApiError && e.status === 403) toast(`${what}: this token lacks the scope (403). ${e.message}`, "error");
  else toast(`${what}: ${e.message}`, "error");
}

// ---------- login ----------
function showLogin(message) {
  $("main").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  const err = $("login-error");
  err.hidden = !message;
  err.textContent = message || "";
  $("token-input").focus();
}

function signOut(message) {
  state.token = "";
  localStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(TOKEN_KEY);
  closeSocket();
  state.jobs.clear();
  state.rows.clear();
  $("jobs").replaceChildren();
  setConn("off", "offline");
  showLogin(message);
}

async function signIn(token, remember) {
  state.token = token;
  try {
    // One cheap authenticated call proves the token before the page opens.
    await api("/v1/queues");
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) showLogin(`Could not sign in: ${e.message}`);
    return;
  }
  (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
  start();
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const token = /** @type {HTMLInputElement} */ ($("token-input")).value.trim();
  if (!token) return;
  signIn(token, /** @type {HTMLInputElement} */ ($("remember")).checked);
});
$("logout").addEventListener("click", () => signOut("Signed out."));

// ---------- connection status ----------
function setConn(kind, label) {
  const c = $("conn");
  c.className = `conn conn-${kind}`;
  c.textContent = label;
}

// ---------- jobs table ----------
function statusBadge(status) {
  return h("span", { class: `badge badge-${status}`, text: status });
}

function progressCell(job) {
  const wrap = h("div", { class: "progress" });
  const bar = h("div", { class: `bar bar-${job.status}`, role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100 });
  const fill = h("span");
  bar.append(fill);
  const label = h("span", { class: "pct mono" });
  wrap.append(h("div", { class: "progress-main" }, bar, label), h("div", { class: "renditions" }));
  return wrap;
}

function updateProgress(tr, job) {
  const pct = job.status === "completed" ? 100 : Math.max(0, Math.min(100, job.progress ?? 0));
  const bar = tr.querySelector(".bar");
  bar.className = `bar bar-${job.status}`;
  bar.setAttribute("aria-valuenow", String(Math.round(pct)));
  /** @type {HTMLElement} */ (bar.firstElementChild).style.width = `${pct}%`;
  tr.querySelector(".pct").textContent = fmtPct(pct);
  const rend = tr.querySelector(".renditions");
  const r = job.status === "active" ? job.live?.renditions : null;
  if (!r || Object.keys(r).length === 0) {
    // A failed row says why right under its bar; the dead-letter panel has the rest.
    if (job.status === "failed" && job.error) rend.replaceChildren(h("span", { class: "why small", title: job.error.message, text: `${job.error.code}: ${job.error.message}` }));
    // A queued row no online node can run (options.require) says so too.
    else if (job.status === "queued" && job.live?.waiting) rend.replaceChildren(h("span", { class: "why small", title: job.live.waiting.message, text: `waiting: ${job.live.waiting.message}` }));
    else rend.replaceChildren();
    return;
  }
  const keys = Object.keys(r).sort((a, b) => parseInt(b) - parseInt(a));
  if (rend.childElementCount !== keys.length) {
    rend.replaceChildren(...keys.map((k) => h("div", { class: "rend", data: { rung: k } }, h("span", { class: "rend-label mono", text: /^\d+$/.test(k) ? `${k}p` : k }), h("div", { class: "mini" }, h("span")))));
  }
  for (const k of keys) {
    const el = rend.querySelector(`[data-rung="${CSS.escape(k)}"] .mini > span`);
    if (el) /** @type {HTMLElement} */ (el).style.width = `${Math.max(0, Math.min(100, r[k]))}%`;
  }
}

function actionsFor(job) {
  const box = h("div", { class: "actions" });
  if (job.status === "queued" || job.status === "active") box.append(h("button", { type: "button", class: "btn btn-sm btn-danger", "data-action": "cancel", text: "Cancel" }));
  if (job.status === "failed" || job.status === "cancelled") box.append(h("button", { type: "button", class: "btn btn-sm", "data-action": "retry", text: "Retry" }));
  if (job.status === "completed" && job.outputs?.length) {
    box.append(h("button", { type: "button", class: "btn btn-sm btn-ghost", "data-action": "outputs", "aria-expanded": String(state.open.has(job.id)), text: `Outputs (${job.outputs.length})` }));
  }
  return box;
}

function sourceName(job) {
  const s = job.source || {};
  if (s.kind === "upload") return s.filename || `upload · ${fmtBytes(s.bytes)}`;
  if (s.kind === "url") return s.url;
  if (s.kind === "path") return s.path;
  return "";
}

function buildRow(job) {
  const tr = h("tr", { class: "job-row", data: { id: job.id } });
  tr.append(
    h("td", { class: "cell-id" }, h("span", { class: "mono id", title: job.id, text: shortId(job.id) }), h("span", { class: "src muted small", title: sourceName(job), text: sourceName(job) })),
    h("td", { class: "cell-type" }, h("span", { class: "type", text: job.type })),
    h("td", { class: "cell-status" }),
    h("td", { class: "col-progress" }, progressCell(job)),
    h("td", { class: "cell-eta mono" }),
    h("td", { class: "cell-node mono small" }),
    h("td", { class: "cell-created small muted" }),
    h("td", { class: "col-actions" }),
  );
  return tr;
}

function updateRow(tr, job) {
  tr.dataset.status = job.status;
  const st = tr.querySelector(".cell-status");
  if (st.dataset.s !== job.status + (job.attempts ?? "")) {
    st.dataset.s = job.status + (job.attempts ?? "");
    st.replaceChildren(statusBadge(job.status), job.attempts > 1 ? h("span", { class: "attempts small muted", title: "attempts", text: ` ×${job.attempts}` }) : "");
  }
  updateProgress(tr, job);
  const eta = tr.querySelector(".cell-eta");
  eta.textContent = job.status === "active" ? fmtEta(job.live?.etaSec) || "…" : job.status === "completed" && job.startedAt ? `took ${fmtDuration(job.startedAt, job.finishedAt)}` : "";
  eta.title = job.status === "completed" ? "run time" : "time left";
  eta.classList.toggle("muted", job.status !== "active");
  tr.querySelector(".cell-node").textContent = job.node || "";
  const created = tr.querySelector(".cell-created");
  created.textContent = fmtAgo(job.createdAt);
  created.title = job.createdAt ? new Date(job.createdAt).toLocaleString() : "";
  const act = tr.querySelector(".col-actions");
  const key = `${job.status}:${job.outputs?.length ?? 0}:${state.open.has(job.id)}`;
  if (act.dataset.k !== key) {
    act.dataset.k = key;
    act.replaceChildren(actionsFor(job));
  }
  syncDetails(tr, job);
}

function visible(job) {
  return !state.filter || job.status === state.filter;
}

function renderJob(job) {
  let tr = state.rows.get(job.id);
  if (!visible(job)) {
    if (tr) removeRow(job.id);
    return;
  }
  if (!tr) {
    tr = buildRow(job);
    state.rows.set(job.id, tr);
    insertSorted(tr, job);
  }
  updateRow(tr, job);
  $("jobs-empty").hidden = state.rows.size > 0;
}

function removeRow(id) {
  const tr = state.rows.get(id);
  if (!tr) return;
  const next = tr.nextElementSibling;
  if (next?.classList.contains("details-row")) next.remove();
  tr.remove();
  state.rows.delete(id);
  $("jobs-empty").hidden = state.rows.size > 0;
}

function insertSorted(tr, job) {
  // Newest first (ids are time-ordered ULIDs, createdAt breaks nothing either way).
  const body = $("jobs");
  for (const other of body.querySelectorAll("tr.job-row")) {
    const o = state.jobs.get(/** @type {HTMLElement} */ (other).dataset.id);
    if (o && (o.createdAt < job.createdAt || (o.createdAt === job.createdAt && o.id < job.id))) {
      body.insertBefore(tr, other);
      return;
    }
  }
  body.append(tr);
}

function renderAll() {
  $("jobs").replaceChildren();
  state.rows.clear();
  const list = [...state.jobs.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1));
  for (const j of list) renderJob(j);
  $("jobs-empty").hidden = state.rows.size > 0;
}

// ---------- outputs (details row) ----------
function outputHref(o) {
  // Links open in a new tab, where no header can be set: ?token= is the SPEC's way for
  // media players; Referrer-Policy no-referrer keeps it from leaking onward.
  return `${o.url}?token=${encodeURIComponent(state.token)}`;
}

async function loadPreview(img, url) {
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${state.token}` } });
    if (!res.ok) throw new Error(String(res.status));
    img.src = URL.createObjectURL(await res.blob());
  } catch {
    img.replaceWith(h("span", { class: "muted small", text: "preview unavailable" }));
  }
}

function outputsView(job) {
  const outs = job.outputs || [];
  const isKey = (o) => /(^|\/)(master\.m3u8|video\.mp4|poster\.jpg|storyboard\.jpg|waveform\.json)$/.test(o.name) || !o.name.includes("/");
  const images = outs.filter((o) => o.mime?.startsWith("image/") && !o.name.includes("storyboard")).slice(0, 6);
  const main = outs.filter((o) => isKey(o) && !/\.(ts|m4s)$/.test(o.name));
  const rest = outs.length - main.length;
  const box = h("div", { class: "outputs" });
  if (job.type === "video" || (job.type === "audio" && outs.some((o) => o.mime?.startsWith("audio/")))) {
    const player = h("div", { class: "player-box" });
    state.players.get(job.id)?.();
    state.players.set(job.id, mountPlayer(player, job, api));
    box.append(player);
  }
  if (images.length) {
    const thumbs = h("div", { class: "thumbs" });
    for (const o of images) {
      const img = h("img", { alt: o.name, loading: "lazy", class: "thumb" });
      loadPreview(img, o.url);
      thumbs.append(h("a", { href: outputHref(o), target: "_blank", rel: "noopener", title: o.name }, img, h("span", { class: "small muted", text: o.width ? `${o.width}×${o.height}` : o.name })));
    }
    box.append(thumbs);
  }
  const list = h("ul", { class: "files" });
  for (const o of main) {
    const dims = o.width && o.height ? `${o.width}×${o.height}` : "";
    list.append(h("li", {}, h("a", { href: outputHref(o), target: "_blank", rel: "noopener", class: "mono", text: o.name }), h("span", { class: "muted small", text: [o.mime, dims, fmtBytes(o.bytes)].filter(Boolean).join(" · ") })));
  }
  if (rest > 0) list.append(h("li", { class: "muted small", text: `+ ${rest} more (rendition playlists and segments)` }));
  box.append(list);
  if (job.result && job.type !== "video") {
    const r = { ...job.result };
    box.append(h("details", { class: "result" }, h("summary", { text: "Result" }), h("pre", { class: "mono small", text: JSON.stringify(r, null, 2).slice(0, 4000) })));
  }
  return box;
}

function syncDetails(tr, job) {
  const next = tr.nextElementSibling;
  const has = next?.classList.contains("details-row");
  const want = state.open.has(job.id) && job.status === "completed";
  const drop = () => {
    next.remove();
    state.players.get(job.id)?.();
    state.players.delete(job.id);
  };
  if (!want) {
    if (has) drop();
    return;
  }
  if (has && next.dataset.k === String(job.outputs.length)) return;
  if (has) drop();
  const row = h("tr", { class: "details-row", data: { k: String(job.outputs.length) } }, h("td", { colspan: 8 }, outputsView(job)));
  tr.after(row);
}

// ---------- job actions ----------
$("jobs").addEventListener("click", async (ev) => {
  const btn = /** @type {HTMLElement} */ (ev.target).closest("button[data-action]");
  if (!btn) return;
  const id = btn.closest("tr")?.dataset.id;
  if (!id) return;
  const action = btn.dataset.action;
  if (action === "outputs") {
    if (state.open.has(id)) state.open.delete(id);
    else state.open.add(id);
    renderJob(state.jobs.get(id));
    return;
  }
  await jobAction(id, action, btn);
});

async function jobAction(id, action, btn) {
  btn.disabled = true;
  try {
    const job = action === "cancel" ? await api(`/v1/jobs/${encodeURIComponent(id)}`, { method: "DELETE" }) : await api(`/v1/jobs/${encodeURIComponent(id)}/retry`, { method: "POST" });
    upsert(job);
    toast(action === "cancel" ? `Cancelled ${shortId(id)}` : `Requeued ${shortId(id)}`);
    if (action === "retry") loadFailed();
    scheduleRefresh();
  } catch (e) {
    btn.disabled = false;
    reportError(action === "cancel" ? "Cancel failed" : "Retry failed", e);
  }
}

function upsert(job) {
  state.jobs.set(job.id, job);
  if (job.node) seeNode(job.node, job.finishedAt || job.startedAt || job.createdAt);
  renderJob(job);
}

// ---------- loading ----------
async function loadJobs(append = false) {
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (state.filter) q.set("status", state.filter);
  if (append && state.cursor) q.set("cursor", state.cursor);
  const r = await api(`/v1/jobs?${q}`);
  if (!append) {
    // Keep live jobs we know of; refresh the rest from the list.
    for (const [id, j] of state.jobs) if (visible(j) && !r.items.some((x) => x.id === id) && TERMINAL.has(j.status)) state.jobs.delete(id);
  }
  for (const j of r.items) state.jobs.set(j.id, j);
  state.cursor = r.nextCursor;
  $("more-foot").hidden = !r.nextCursor;
  if (append) for (const j of r.items) renderJob(j);
  else renderAll();
}

$("more").addEventListener("click", () => loadJobs(true).catch((e) => reportError("Loading jobs", e)));
$("filters").addEventListener("click", (ev) => {
  const b = /** @type {HTMLElement} */ (ev.target).closest("[data-filter]");
  if (!b) return;
  state.filter = b.dataset.filter;
  for (const c of $("filters").children) c.classList.toggle("is-on", c === b);
  loadJobs().catch((e) => reportError("Loading jobs", e));
});

async function fetchJob(id) {
  if (state.pendingFetch.has(id)) return state.pendingFetch.get(id);
  const p = api(`/v1/jobs/${encodeURIComponent(id)}`)
    .then((j) => upsert(j))
    .catch(() => {})
    .finally(() => state.pendingFetch.delete(id));
  state.pendingFetch.set(id, p);
  return p;
}

// ---------- queues ----------
async function loadQueues() {
  const r = await api("/v1/queues");
  state.queues = r.items;
  renderQueues();
}

function renderQueues() {
  const grid = $("queues");
  const cards = new Map([...grid.children].map((c) => [/** @type {HTMLElement} */ (c).dataset.queue, c]));
  for (const q of state.queues) {
    let card = cards.get(q.name);
    if (!card) {
      card = h(
        "div",
        { class: "card queue", data: { queue: q.name } },
        h("div", { class: "queue-head" }, h("span", { class: "queue-name", text: q.name }), h("span", { class: "badge badge-paused", text: "paused" }), h("button", { type: "button", class: "btn btn-sm btn-ghost queue-toggle", "data-queue": q.name })),
        h(
          "dl",
          { class: "counts" },
          ...["waiting", "active", "delayed", "failed", "completed"].map((k) => h("div", { class: `count-${k}`, title: k }, h("dt", { text: k === "completed" ? "done" : k }), h("dd", { data: { k } }))),
        ),
      );
      grid.append(card);
    }
    card.classList.toggle("is-paused", q.paused);
    const btn = /** @type {HTMLButtonElement} */ (card.querySelector(".queue-toggle"));
    btn.textContent = q.paused ? "Resume" : "Pause";
    btn.dataset.action = q.paused ? "resume" : "pause";
    btn.setAttribute("aria-label", `${q.paused ? "Resume" : "Pause"} the ${q.name} queue`);
    for (const k of ["waiting", "active", "delayed", "failed", "completed"]) card.querySelector(`dd[data-k="${k}"]`).textContent = String(q[k] ?? 0);
  }
}

$("queues").addEventListener("click", async (ev) => {
  const btn = /** @type {HTMLButtonElement} */ (/** @type {HTMLElement} */ (ev.target).closest("button.queue-toggle"));
  if (!btn) return;
  const name = btn.dataset.queue;
  const action = btn.dataset.action;
  btn.disabled = true;
  try {
    const r = await api(`/v1/queues/${encodeURIComponent(name)}/${action}`, { method: "POST" });
    const q = state.queues.find((x) => x.name === name);
    if (q) q.paused = r.paused;
    renderQueues();
    toast(`${name} queue ${r.paused ? "paused" : "resumed"}`);
  } catch (e) {
    reportError(`Could not ${action} ${name}`, e);
  } finally {
    btn.disabled = false;
  }
});

// ---------- nodes ----------
/** The encoders worth a glance: what a job's options.require would name. */
const KEY_ENCODERS = ["libx264", "libx265", "libsvtav1", "libaom-av1", "libvpx-vp9", "h264_nvenc", "hevc_nvenc", "av1_nvenc", "h264_qsv", "hevc_qsv", "h264_vaapi", "hevc_vaapi", "h264_videotoolbox", "libopus", "libmp3lame", "aac"];

function seeNode(id, at) {
  const n = state.nodesSeen.get(id);
  if (!n || (at && at > n.at)) state.nodesSeen.set(id, { id, at: at || new Date().toISOString() });
}

async function loadNodes() {
  if (!state.nodesApi) return renderNodes(null);
  try {
    const r = await api("/v1/nodes");
    renderNodes(r.items);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      state.nodesApi = false;
      renderNodes(null);
    } else if (!(e instanceof ApiError && e.status === 401)) renderNodes(null, e.message);
  }
}

function renderNodes(items, error) {
  const ul = $("nodes");
  if (!items) {
    // No node list on this server: show the nodes seen in job events instead.
    const seen = [...state.nodesSeen.values()].sort((a, b) => (a.at < b.at ? 1 : -1));
    ul.replaceChildren(
      h("li", { class: "muted small", text: error ? `Node list unavailable: ${error}` : "Node list not available on this server; showing nodes seen in job events." }),
      ...seen.map((n) => h("li", { class: "node" }, h("div", { class: "node-head" }, h("span", { class: "dot dot-on" }), h("span", { class: "mono", text: n.id })), h("span", { class: "muted small", text: `last job event ${fmtAgo(n.at)}` }))),
    );
    $("nodes-count").textContent = seen.length ? `${seen.length} seen` : "";
    return;
  }
  $("nodes-count").textContent = `${items.length} online`;
  if (!items.length) {
    ul.replaceChildren(h("li", { class: "muted small", text: "No node has reported in the last minute." }));
    return;
  }
  ul.replaceChildren(
    ...items.map((n) => {
      const conc = Object.entries(n.concurrency || {})
        .map(([k, v]) => `${k} ${v}`)
        .join(" · ");
      const hw = (n.hwaccels || []).filter((x) => x && x !== "none");
      const encoders = new Set(n.encoders || []);
      const enc = KEY_ENCODERS.filter((e) => encoders.has(e));
      return h(
        "li",
        { class: "node" },
        h("div", { class: "node-head" }, h("span", { class: "dot dot-on", title: `last seen ${fmtAgo(n.lastSeen)}` }), h("span", { class: "node-name", text: n.host }), h("span", { class: "mono muted small", title: n.id, text: n.id })),
        h("div", { class: "node-meta small" }, h("span", { text: (n.roles || []).join(", ") }), h("span", { class: "muted", text: `v${n.version}` }), n.freeDiskBytes != null ? h("span", { class: "muted", text: `${fmtBytes(n.freeDiskBytes)} free` }) : ""),
        h("div", { class: "node-meta small" }, h("span", { text: `${n.activeJobs} active` }), conc ? h("span", { class: "muted", text: conc }) : ""),
        n.ffmpegVersion ? h("div", { class: "small muted mono ellipsis", title: n.ffmpegVersion, text: `ffmpeg ${n.ffmpegVersion}` }) : "",
        enc.length ? h("div", { class: "tags", title: `${encoders.size} encoders in this ffmpeg` }, ...enc.map((x) => h("span", { class: `tag${/nvenc|qsv|vaapi|videotoolbox|amf|v4l2m2m/.test(x) ? " tag-hw" : ""}`, text: x }))) : "",
        hw.length ? h("div", { class: "small muted ellipsis", title: hw.join(", "), text: `hwaccels: ${hw.join(", ")}` }) : "",
      );
    }),
  );
}

// ---------- failed (dead letter) ----------
async function loadFailed() {
  const r = await api("/v1/jobs?status=failed&limit=25");
  const ul = $("failed");
  $("failed-count").textContent = r.nextCursor ? `${r.items.length}+` : String(r.items.length);
  $("failed-empty").hidden = r.items.length > 0;
  ul.replaceChildren(
    ...r.items.map((j) => {
      const err = j.error || { code: "INTERNAL", message: "no error recorded" };
      const li = h(
        "li",
        { class: "failed-item", data: { id: j.id } },
        h(
          "div",
          { class: "failed-head" },
          h("span", { class: "code mono", text: err.code }),
          h("span", { class: "type", text: j.type }),
          h("span", { class: "mono small", title: j.id, text: shortId(j.id) }),
          h("span", { class: "src muted small", text: sourceName(j) }),
          h("span", { class: "muted small", text: `${j.attempts} attempt${j.attempts === 1 ? "" : "s"} · ${fmtAgo(j.finishedAt || j.createdAt)}` }),
          h("button", { type: "button", class: "btn btn-sm", "data-action": "retry", text: "Retry" }),
        ),
        h("p", { class: "failed-msg", text: err.message }),
        err.stderrTail
          ? h(
              "details",
              // The last lines matter most: open scrolled to the bottom.
              { class: "stderr", ontoggle: (ev) => ev.currentTarget.open && (ev.currentTarget.lastElementChild.scrollTop = 1e9) },
              h("summary", { text: "ffmpeg stderr (last 4 KiB)" }),
              h("pre", { class: "mono", text: err.stderrTail }),
            )
          : "",
        err.probe ? h("details", { class: "stderr" }, h("summary", { text: "probe" }), h("pre", { class: "mono", text: JSON.stringify(err.probe, null, 2) })) : "",
      );
      return li;
    }),
  );
}

$("failed").addEventListener("click", (ev) => {
  const btn = /** @type {HTMLButtonElement} */ (/** @type {HTMLElement} */ (ev.target).closest("button[data-action=retry]"));
  if (!btn) return;
  const id = btn.closest("li")?.dataset.id;
  if (id) jobAction(id, "retry", btn);
});

// ---------- submit ----------
const fileInput = /** @type {HTMLInputElement} */ ($("file"));
fileInput.addEventListener("change", () => {
  const f = fileInput.files?.[0];
  $("drop-text").textContent = f ? `${f.name} · ${fmtBytes(f.size)}` : "";
  if (!f) $("drop-text").append(h("strong", { text: "Choose a file" }), " or drop it here");
  if (f) {
    const t = f.type.split("/")[0];
    const sel = /** @type {HTMLSelectElement} */ ($("type"));
    if (t === "video" || t === "audio" || t === "image") sel.value = t;
  }
  $("drop").classList.toggle("has-file", !!f);
});
for (const ev of ["dragenter", "dragover"]) $("drop").addEventListener(ev, () => $("drop").classList.add("is-over"));
for (const ev of ["dragleave", "drop"]) $("drop").addEventListener(ev, () => $("drop").classList.remove("is-over"));

// ---------- notify me when done (Web Push, issue #18) ----------
/** base64url → bytes, for PushManager.subscribe's applicationServerKey. */
function keyBytes(b64) {
  const s = atob(b64.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function activated(reg) {
  if (reg.active) return Promise.resolve();
  const w = reg.installing || reg.waiting;
  return new Promise((resolve, reject) => {
    w.addEventListener("statechange", () => {
      if (w.state === "activated") resolve();
      if (w.state === "redundant") reject(new Error("the service worker did not install"));
    });
  });
}

/**
 * This browser's push subscription for the server's VAPID key (made once, then reused), or
 * throws with a message a user can act on. The service worker shows the notification.
 */
async function pushSubscription() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) throw new Error("this browser has no Web Push");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new Error(`notifications are ${permission} for this site`);
  const reg = await navigator.serviceWorker.register("/dashboard/sw.js", { scope: "/dashboard/" });
  // Not `serviceWorker.ready`: the page (/) is outside the worker's scope, so that never resolves.
  await activated(reg);
  const { publicKey } = await api("/v1/notifications/vapid");
  const existing = await reg.pushManager.getSubscription();
  if (existing) return existing.toJSON();
  const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) });
  return sub.toJSON();
}

$("submit-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const file = fileInput.files?.[0];
  if (!file) return;
  const wantsPush = /** @type {HTMLInputElement} */ ($("notify")).checked;
  if (!wantsPush) return send(file, null);
  const msg = $("submit-msg");
  msg.className = "small";
  msg.textContent = "Asking the browser for a push subscription…";
  pushSubscription().then(
    (sub) => send(file, { webpush: sub }),
    (e) => {
      // Submitting without the notification would surprise: say why and let the user choose.
      msg.className = "small form-error";
      msg.dataset.push = "failed";
      msg.textContent = `No browser notification: ${e?.name && e.name !== "Error" ? `${e.name}: ` : ""}${e?.message ?? e}. Untick "Notify me" to submit without it.`;
    },
  );
});

function send(file, notify) {
  const type = /** @type {HTMLSelectElement} */ ($("type")).value;
  const options = /** @type {HTMLTextAreaElement} */ ($("options")).value.trim();
  const msg = $("submit-msg");
  msg.className = "small";
  if (options) {
    try {
      JSON.parse(options);
    } catch {
      msg.className = "small form-error";
      msg.textContent = "Options must be JSON, e.g. {\"renditions\":[720,360]}";
      return;
    }
  }
  const fd = new FormData();
  fd.append("type", type);
  if (options) fd.append("options", options);
  if (notify) fd.append("notify", JSON.stringify(notify));
  fd.append("file", file, file.name);
  const xhr = new XMLHttpRequest();
  const btn = /** @type {HTMLButtonElement} */ ($("submit-btn"));
  const bar = $("upload-bar");
  btn.disabled = true;
  $("upload").hidden = false;
  bar.style.width = "0%";
  $("upload-pct").textContent = "0%";
  msg.textContent = "Uploading…";
  delete msg.dataset.jobId;
  xhr.upload.addEventListener("progress", (e) => {
    if (!e.lengthComputable) return;
    const pct = Math.round((e.loaded / e.total) * 100);
    bar.style.width = `${pct}%`;
    $("upload-pct").textContent = `${pct}%`;
    if (pct === 100) msg.textContent = "Checking the file…";
  });
  xhr.addEventListener("load", () => {
    btn.disabled = false;
    let body = null;
    try {
      body = JSON.parse(xhr.responseText);
    } catch {}
    if (xhr.status === 401) return signOut(`Token refused (401): ${body?.error?.message ?? ""}`);
    if (xhr.status !== 202 && xhr.status !== 200) {
      msg.className = "small form-error";
      msg.textContent = `Refused (${xhr.status}${body?.error?.code ? ` ${body.error.code}` : ""}): ${body?.error?.message ?? xhr.statusText}`;
      $("upload").hidden = true;
      return;
    }
    msg.className = "small ok";
    msg.textContent = `Submitted ${type} job ${shortId(body.id)}${notify ? " · you will be notified when it is done" : ""}`;
    msg.dataset.jobId = body.id;
    upsert(body);
    scheduleRefresh();
    setTimeout(() => ($("upload").hidden = true), 1200);
  });
  xhr.addEventListener("error", () => {
    btn.disabled = false;
    msg.className = "small form-error";
    msg.textContent = "Upload failed: the server could not be reached.";
  });
  xhr.open("POST", "/v1/jobs");
  xhr.setRequestHeader("authorization", `Bearer ${state.token}`);
  xhr.send(fd);
}

// ---------- live events ----------
function closeSocket() {
  clearTimeout(state.wsTimer);
  if (state.ws) {
    state.ws.onclose = null;
    state.ws.close();
    state.ws = null;
  }
}

function connect() {
  closeSocket();
  if (!state.token) return;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/v1/events?token=${encodeURIComponent(state.token)}`);
  state.ws = ws;
  setConn("wait", state.wsTry ? "reconnecting…" : "connecting…");
  ws.onopen = () => {
    const missed = state.wsTry > 0;
    state.wsTry = 0;
    setConn("on", "live");
    // Events may have been missed while away: reload the lists once.
    if (missed) refreshAll();
  };
  ws.onmessage = (m) => {
    let e;
    try {
      e = JSON.parse(m.data);
    } catch {
      return;
    }
    onEvent(e);
  };
  ws.onclose = (c) => {
    state.ws = null;
    state.wsTry++;
    // Exponential backoff with jitter, capped at 15 s.
    const delay = Math.min(15000, 500 * 2 ** Math.min(state.wsTry - 1, 5)) * (0.75 + Math.random() * 0.5);
    setConn("off", `offline · retry in ${Math.ceil(delay / 1000)}s`);
    if (c.code === 1008) toast(`Event stream refused: ${c.reason || "policy"}`, "error");
    state.wsTimer = setTimeout(() => {
      // A token revoked meanwhile: the REST call shows the login screen.
      api("/v1/queues").then(() => connect(), () => state.token && connect());
    }, delay);
  };
}

function onEvent(e) {
  if (!e || typeof e.type !== "string") return;
  if (e.node) seeNode(e.node, e.at);
  if (e.type.startsWith("job.") && e.jobId) {
    const job = state.jobs.get(e.jobId);
    if (!job) {
      fetchJob(e.jobId);
    } else if (!(TERMINAL.has(job.status) && e.type === "job.progress")) {
      // (a progress report overtaken by the job's end changes nothing)
      const next = { ...job };
      if (e.status) next.status = e.status;
      if (typeof e.progress === "number") next.progress = e.progress;
      if (e.node) next.node = e.node;
      if (e.type === "job.progress") {
        const live = e.data?.live ?? e.data;
        if (live && (live.etaSec !== undefined || live.renditions)) next.live = { etaSec: live.etaSec, renditions: live.renditions };
        // A queued job's progress events carry only its queue position.
        if (!next.startedAt && next.status === "active") next.startedAt = e.at;
      }
      state.jobs.set(next.id, next);
      renderJob(next);
      // Terminal and lifecycle events carry no outputs or error detail: read the job.
      if (e.type !== "job.progress") fetchJob(e.jobId);
    }
    if (e.type === "job.failed" || e.type === "job.retrying") loadFailed().catch(() => {});
    if (e.type !== "job.progress") scheduleRefresh();
    return;
  }
  if (e.type === "queue.paused" || e.type === "queue.resumed") {
    const q = state.queues.find((x) => x.name === e.data?.queue);
    if (q) {
      q.paused = e.type === "queue.paused";
      renderQueues();
    }
    return;
  }
  if (e.type === "node.online" || e.type === "node.offline") loadNodes();
}

/** Queue counts follow job events: at most one reload per 500 ms, and always one after the last event. */
function scheduleRefresh() {
  state.refreshDirty = true;
  if (state.refreshTimer) return;
  state.refreshTimer = setTimeout(async () => {
    state.refreshDirty = false;
    await loadQueues().catch(() => {});
    state.refreshTimer = 0;
    if (state.refreshDirty) scheduleRefresh();
  }, 500);
}

async function refreshAll() {
  await Promise.all([loadJobs(), loadQueues(), loadFailed(), loadNodes()]).catch((e) => reportError("Loading", e));
}

// ---------- start ----------
let ticker = 0;
function start() {
  $("login").hidden = true;
  $("main").hidden = false;
  $("logout").hidden = false;
  refreshAll();
  connect();
  clearInterval(ticker);
  ticker = setInterval(() => {
    if (!state.token) return;
    // Relative times age, and nodes come and go: a slow refresh beside the live stream.
    for (const [id, tr] of state.rows) {
      const j = state.jobs.get(id);
      if (j) tr.querySelector(".cell-created").textContent = fmtAgo(j.createdAt);
    }
    loadNodes();
    loadQueues().catch(() => {});
  }, 10000);
}

if (state.token) signIn(state.token, !!localStorage.getItem(TOKEN_KEY));
else showLogin();
