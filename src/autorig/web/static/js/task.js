// A task: progress, queue, the FBX step, files with prices and downloads, preview video, 3D viewer,
// what went wrong (the reason and a hint from its error code) and what to check in a finished rig.
// Polls the API while the task runs and stops when it is done or failed. Every URL it uses is the
// backend's own: the API never shows where workers are.
import {
  $, ICONS, api, el, errorText, fmtBytes, fmtCredits, fmtDuration, fmtNumber, fmtWait, initPage, onLang,
  setHeaderBalance, t, toast,
} from "/static/js/app.js";

const POLL_MS = 2000;
const PAID_POLL_MS = 400;
const PAID_POLL_TRIES = 25;
const FINISHED = new Set(["done", "error"]);

const taskId = new URLSearchParams(location.search).get("id") || decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const info = await initPage("");

let task = null;
let purchases = null;
let reportSizes = null; // file -> bytes, from rig.json, when the API gives no size
let viewer = null;
let viewerUrl = null;
let videoUrl = null;
let pollTimer = null;
let restartTimer = null;

const PREVIEWS = ["preview.mp4", "viewer.glb", "rig.json"];

/** What a file is, from its name (the engine's naming: NAME.glb, NAME_lod1.fbx, NAME_animated.glb...). */
function describe(name) {
  if (name === "preview.mp4") return t("file.video");
  if (name === "viewer.glb") return t("file.viewer");
  if (name === "rig.json") return t("file.report");
  const ext = name.split(".").pop().toLowerCase();
  const fmt = { glb: "file.fmt_glb", fbx: "file.fmt_fbx", usdz: "file.fmt_usdz" }[ext];
  let what = "file.rigged";
  if (/_lod1\.\w+$/.test(name)) what = "file.lod1";
  else if (/_lod2\.\w+$/.test(name)) what = "file.lod2";
  else if (/_animated\.\w+$/.test(name)) what = "file.animated";
  else if (ext === "usdz") what = "file.usdz";
  return fmt && ext !== "usdz" ? `${t(what)} · ${t(fmt)}` : t(what);
}

// --- loading ------------------------------------------------------------------------------

async function refresh() {
  clearTimeout(pollTimer);
  const r = await api(`/api/task/${encodeURIComponent(taskId)}`);
  if (!r.ok) {
    if (!task) {
      $("#task-name").textContent = t("task.not_found_h");
      const box = $("#load-error");
      box.hidden = false;
      box.textContent = r.status === 404 ? t("task.not_found") : errorText(r);
      if (r.status !== 404) pollTimer = setTimeout(refresh, POLL_MS * 3);
      return;
    }
    pollTimer = setTimeout(refresh, POLL_MS * 2); // a hiccup: keep the page, ask again
    return;
  }
  const before = task;
  task = r.data;
  if (info.viewer.signed_in && (!purchases || !before || FINISHED.has(task.status) !== FINISHED.has(before.status))) await loadPurchases();
  if (!reportSizes && task.status === "done" && task.files.some((f) => f.name === "rig.json" && f.size == null)) await loadReportSizes();
  draw();
  if (!FINISHED.has(task.status)) pollTimer = setTimeout(refresh, POLL_MS);
  else scheduleRestartOffer();
}

async function loadPurchases() {
  const r = await api(`/api/credits/task/${encodeURIComponent(taskId)}`);
  if (r.ok) {
    purchases = r.data;
    setHeaderBalance(purchases.balance_credits);
  }
}

async function loadReportSizes() {
  const f = task.files.find((x) => x.name === "rig.json");
  const r = await api(f.url);
  reportSizes = {};
  for (const o of (r.ok && Array.isArray(r.data?.outputs) ? r.data.outputs : [])) if (o?.file) reportSizes[o.file] = o.size;
}

function scheduleRestartOffer() {
  // A failed task offers restart after a while: ask again then, without polling meanwhile.
  clearTimeout(restartTimer);
  const at = task.restart?.available_at && new Date(task.restart.available_at).getTime();
  if (task.status === "error" && !task.restart.allowed && at) restartTimer = setTimeout(refresh, Math.max(1000, at - Date.now() + 500));
}

// --- drawing ------------------------------------------------------------------------------

function draw() {
  if (!task) return;
  $("#load-error").hidden = true;
  $("#task").hidden = false;
  $("#task-name").textContent = task.source_name;
  document.title = `${task.source_name} · autorig`;
  const badge = $("#badge");
  badge.hidden = false;
  badge.className = `badge ${task.status}`;
  badge.textContent = t(`status.${task.status}`);
  drawProgress();
  drawFbx();
  drawError();
  drawWarnings();
  drawRestart();
  drawFiles();
  drawVideo();
  drawViewer();
}

function stageText() {
  if (task.status === "created") {
    if (task.fbx && task.fbx.status === "running") return t("stage.fbx_running");
    if (task.fbx && task.fbx.status === "pending") return t("stage.fbx_pending");
    return t("stage.queued");
  }
  if (task.status === "done") return t("stage.done");
  if (task.status === "error") return t("stage.error");
  if (!task.stage || task.stage === "queued") return t("stage.starting"); // the worker is fetching the model
  const key = `stage.${task.stage}`;
  const text = t(key);
  return text === key ? (task.stage || t("stage.running")) : text;
}

function drawProgress() {
  const done = task.status === "done";
  const frac = done ? 1 : Math.max(0, Math.min(1, task.progress || 0));
  const pct = Math.floor(frac * 100);
  $("#pct").textContent = fmtNumber(pct / 100, { style: "percent" });
  const bar = $("#bar");
  bar.className = `bar ${done ? "done" : task.status === "error" ? "error" : "live"}`;
  bar.querySelector(".fill").style.width = `${frac * 100}%`;
  bar.setAttribute("aria-valuenow", String(pct));
  bar.dataset.progress = frac.toFixed(4);
  $("#stage-line").textContent = stageText();

  const total = task.total_count || 0;
  $("#files-line").textContent = total ? t("task.files_ready", { n: task.ready_count, total }) : task.status === "error" ? "" : t("task.files_later");
  const started = task.started_at && new Date(task.started_at);
  const finished = task.finished_at && new Date(task.finished_at);
  let time = "";
  if (done && started && finished) time = t("task.took", { d: fmtDuration((finished - started) / 1000) });
  else if (task.status === "processing" && started) time = t("task.running_for", { d: fmtDuration((Date.now() - started) / 1000) });
  $("#time-line").textContent = time;

  const steps = [["queue", t("step.queue")]];
  if (task.fbx) steps.unshift(["fbx", t("step.fbx")]);
  steps.push(["rig", t("step.rig")], ["done", t("step.done")]);
  let current = "queue";
  if (task.status === "created" && task.fbx && task.fbx.status !== "done") current = "fbx";
  else if (task.status === "processing") current = "rig";
  else if (done) current = "done";
  else if (task.status === "error") current = task.started_at ? "rig" : task.fbx && task.fbx.status !== "done" ? "fbx" : "queue";
  const idx = steps.findIndex(([k]) => k === current);
  $("#steps").replaceChildren(...steps.map(([k, label], i) =>
    el("span", { class: i < idx || (done && i === idx) ? "past" : i === idx ? "on" : "" }, i < idx || done ? "✓ " : "", label)));

  const q = $("#queue-box");
  q.hidden = !(task.status === "created" && task.queue);
  if (!q.hidden) {
    const pos = task.queue.position;
    const wait = task.queue.estimated_wait_seconds;
    q.replaceChildren(
      el("strong", {}, pos ? t("task.queue_pos", { n: pos }) : t("task.queue_soon")),
      wait == null ? t("wait.unknown") : t("task.queue_wait", { when: fmtWait(wait) }),
    );
  }
}

function drawFbx() {
  const box = $("#fbx-box");
  const f = task.fbx;
  box.hidden = !f;
  if (!f) return;
  box.className = `notice ${f.status === "error" ? "error" : f.status === "done" ? "ok" : ""}`;
  const parts = [el("span", { class: `badge ${f.status}` }, t(`fbx.${f.status}`)), el("span", {}, t("fbx.what"))];
  if (f.status === "done" && f.glb_url) parts.push(el("a", { class: "btn small secondary", href: f.glb_url, download: "" }, el("span", { html: ICONS.download, style: "display:inline-flex" }), t("fbx.download")));
  if (f.status === "error" && f.error) parts.push(el("span", {}, f.error));
  box.replaceChildren(el("div", { class: "fbx-step" }, ...parts));
}

/** The hint for an error code ("it looks like an object, not a character"), or "". */
function errorHint(code) {
  if (!code) return "";
  const key = `task.hint_${code}`;
  const hint = t(key);
  return hint === key ? t("task.hint_other") : hint;
}

function drawError() {
  const box = $("#error-box");
  box.hidden = task.status !== "error";
  if (box.hidden) return;
  const hint = errorHint(task.error_code);
  const children = [el("strong", {}, t("task.failed_h"))];
  if (hint) children.push(el("div", { id: "error-hint", dataset: { code: task.error_code } }, hint));
  children.push(el("div", { class: hint ? "small" : "", id: "error-reason", style: hint ? "margin-top:4px" : "" }, task.error || t("task.failed_unknown")));
  if (task.attempts > 1) children.push(el("div", { class: "small", style: "margin-top:4px" }, t("task.attempts", { n: task.attempts })));
  box.replaceChildren(...children);
}

/** One warning of a finished rig, in the page's language where the page knows its kind. */
function warningText(w) {
  if (w.kind === "low_confidence" && w.cue) {
    const key = `task.cue_${w.cue.toLowerCase().replace(/[^a-z]+/g, "_").replace(/^_|_$/g, "")}`;
    const what = t(key);
    return t("task.warn_unclear", { what: what === key ? w.cue : what });
  }
  if (w.kind === "output_failed" && w.file) return t("task.warn_output_failed", { file: w.file, reason: w.reason || "" });
  return w.text;
}

function drawWarnings() {
  const box = $("#warnings-box");
  const list = task.status === "done" ? task.warnings || [] : [];
  box.hidden = !list.length;
  if (box.hidden) return;
  box.replaceChildren(
    el("strong", {}, t("task.warnings_h", { n: list.length })),
    el("ul", { class: "warnings" }, ...list.map((w) => el("li", { dataset: { kind: w.kind } }, warningText(w)))),
  );
}

function drawRestart() {
  const box = $("#restart-box");
  const offer = task.restart || {};
  const parts = [];
  if (offer.allowed) {
    parts.push(el("button", { class: "btn", type: "button", id: "restart", onclick: restart }, t("task.restart")));
  } else if (task.status === "error" && offer.available_at) {
    const secs = (new Date(offer.available_at).getTime() - Date.now()) / 1000;
    parts.push(el("span", { class: "small muted" }, t("task.restart_at", { when: fmtWait(Math.max(secs, 0)) })));
  }
  if (task.status === "done") parts.push(el("a", { class: "btn secondary", href: "/" }, t("task.another")));
  box.replaceChildren(...parts);
}

async function restart(e) {
  e.target.disabled = true;
  const r = await api(`/api/task/${encodeURIComponent(taskId)}/restart`, { method: "POST" });
  if (!r.ok) {
    e.target.disabled = false;
    toast(errorText(r), "error");
    return;
  }
  toast(t("task.restarted"));
  location.reload();
}

function priceCell(name) {
  if (PREVIEWS.includes(name)) return el("span", { class: "price" }, t("price.free"));
  if (purchases?.is_admin) return el("span", { class: "price paid" }, t("price.admin"));
  if (purchases && (purchases.all_paid || purchases.paid.includes(name))) return el("span", { class: "price paid" }, `✓ ${t("price.paid")}`);
  return el("span", { class: "price" }, fmtCredits(info.price_file_credits));
}

function sizeOf(f) {
  if (f && f.size != null) return f.size;
  return reportSizes && f ? reportSizes[f.name] ?? null : null;
}

function fileRow(name, ready, paid) {
  const ext = name.split(".").pop().toLowerCase();
  const size = sizeOf(ready);
  const missing = task.status === "done" && !ready;
  const act = el("div", { class: "act" });
  if (ready) {
    const isPreview = !paid;
    const btn = el("a", {
      class: `btn small ${isPreview ? "secondary" : ""}`, href: ready.url, download: name,
      dataset: { file: name }, "aria-label": t("task.download_named", { name }),
    }, el("span", { html: ICONS.download, style: "display:inline-flex" }), t("task.download"));
    if (paid) btn.addEventListener("click", (e) => { e.preventDefault(); download(name, ready.url, false); });
    act.append(btn);
  } else {
    act.append(el("span", { class: "small faint" }, missing ? t("task.not_made") : task.status === "error" ? "—" : t("task.making")));
  }
  const price = paid ? priceCell(name) : el("span", { class: "price" }, t("price.free"));
  return el("div", { class: `file${ready ? "" : " pending"}`, dataset: { name } },
    el("div", { class: `ext ${paid ? ext : "free"}` }, ext.toUpperCase()),
    el("div", { class: "main" }, el("div", { class: "name", title: name }, name), el("div", { class: "desc" }, describe(name))),
    el("div", { class: "size" }, ready ? fmtBytes(size) : ""),
    price,
    act,
    el("div", { class: "meta-m" }, [ready && size != null ? fmtBytes(size) : "", price.textContent].filter(Boolean).join(" · ")),
  );
}

function drawFiles() {
  const expected = [...(task.expected_files || [])];
  const ready = new Map((task.files || []).map((f) => [f.name, f]));
  for (const f of ready.keys()) if (!expected.includes(f)) expected.push(f);
  const downloads = expected.filter((n) => !PREVIEWS.includes(n));
  const previews = expected.filter((n) => PREVIEWS.includes(n));
  const list = $("#files");
  const failedEmpty = task.status === "error" && !ready.size;
  if (!expected.length) {
    list.replaceChildren(el("p", { class: "muted", style: "margin:6px 0" }, failedEmpty ? t("task.files_none") : t("task.files_later_long")));
  } else {
    list.replaceChildren(...downloads.map((n) => fileRow(n, ready.get(n), true)));
  }
  $("#previews").replaceChildren(...(previews.length ? previews : PREVIEWS).map((n) => fileRow(n, ready.get(n), false)));
  $("#previews").hidden = $("#previews-h").hidden = failedEmpty;
  drawAllBox(downloads.filter((n) => ready.has(n)));
  drawBalance();
}

function drawBalance() {
  const line = $("#balance-line");
  const v = info.viewer;
  if (!v.signed_in) {
    line.replaceChildren(t("task.sign_in_note", { n: info.user_free_limit }), " ", el("a", { href: `/login?next=${encodeURIComponent(location.pathname + location.search)}` }, t("nav.sign_in")));
  } else if (purchases?.is_admin) {
    line.textContent = t("task.admin_free");
  } else {
    const bal = purchases?.balance_credits ?? v.balance_credits ?? 0;
    line.replaceChildren(t("task.balance", { n: bal }), " · ", el("a", { href: "/buy-credits" }, t("task.buy")));
    line.dataset.balance = String(bal);
  }
}

function drawAllBox(readyDownloads) {
  const box = $("#all-box");
  const done = task.status === "done" && task.download_all_url;
  if (!done) { box.replaceChildren(); return; }
  const price = info.price_all_credits;
  const paidEach = purchases && readyDownloads.every((n) => purchases.paid.includes(n));
  const free = purchases && (purchases.is_admin || purchases.all_paid || paidEach);
  const balance = purchases?.balance_credits ?? 0;
  const short = info.viewer.signed_in && !free && balance < price;
  const button = el("a", {
    class: "btn", href: task.download_all_url, id: "download-all", download: "",
    onclick: (e) => { e.preventDefault(); download(null, task.download_all_url, true); },
  }, el("span", { html: ICONS.download, style: "display:inline-flex" }), free ? t("task.all_again") : t("task.all_for", { n: price }));
  const right = el("div", { class: "row" });
  if (short) {
    right.append(el("span", { class: "small muted" }, t("task.all_short", { n: balance })), el("a", { class: "btn", href: "/buy-credits", id: "buy-more" }, t("task.buy")));
  } else {
    right.append(button);
  }
  box.replaceChildren(el("div", { class: "all-box" },
    el("div", {}, el("div", { class: "title" }, t("task.all_h", { n: readyDownloads.length })), el("div", { class: "small muted" }, free ? t("task.all_paid") : t("task.all_sub", { n: price, file: info.price_file_credits }))),
    right));
}

// --- downloads ----------------------------------------------------------------------------

async function download(name, url, all) {
  if (!info.viewer.signed_in) {
    location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    return;
  }
  if (!purchases) await loadPurchases();
  const p = purchases;
  const paid = all ? p.all_paid : p.all_paid || p.paid.includes(name);
  const price = all ? info.price_all_credits : info.price_file_credits;
  const covered = all && task.files.filter((f) => f.kind === "download").every((f) => p.paid.includes(f.name));
  if (!p.is_admin && !paid && !covered && (p.balance_credits ?? 0) < price) {
    toast(t("task.need_credits", { n: price, have: p.balance_credits ?? 0 }), "error");
    setTimeout(() => { location.href = "/buy-credits"; }, 1200);
    return;
  }
  const a = el("a", { href: url, download: all ? "" : name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  toast(t("task.downloading", { name: name || t("task.all_zip") }));
  // The charge happens when the server receives the request: follow it until it shows.
  for (let i = 0; i < PAID_POLL_TRIES; i++) {
    await new Promise((res) => setTimeout(res, PAID_POLL_MS));
    await loadPurchases();
    if (purchases.is_admin || (all ? purchases.all_paid || covered : purchases.paid.includes(name))) break;
  }
  drawFiles();
}

// --- video and viewer ---------------------------------------------------------------------

function drawVideo() {
  const box = $("#video-box");
  const url = task.preview_video_url;
  if (url && url !== videoUrl) {
    videoUrl = url;
    const video = el("video", { class: "video", src: url, controls: true, muted: true, loop: true, playsinline: true, autoplay: true, preload: "auto", id: "preview-video" });
    video.muted = true;
    video.addEventListener("error", () => box.replaceChildren(el("div", { class: "video-wait" }, t("task.video_error"))));
    box.replaceChildren(video);
  } else if (!url && !videoUrl) {
    const text = task.status === "error" ? t("task.video_none") : task.status === "done" ? t("task.video_missing") : t("task.video_wait");
    box.replaceChildren(el("div", { class: "video-wait" }, task.status === "processing" || task.status === "created" ? el("span", { class: "spinner" }) : null, el("span", {}, text)));
  }
}

async function drawViewer() {
  const host = $("#viewer");
  const file = (task.files || []).find((f) => f.name === "viewer.glb");
  if (!file) {
    if (!viewerUrl) {
      const text = task.status === "error" ? t("task.viewer_none") : task.status === "done" ? t("task.viewer_missing") : t("task.viewer_wait");
      $("#viewer-wait").textContent = text;
      host.querySelector(".spinner").hidden = FINISHED.has(task.status);
    }
    return;
  }
  if (viewerUrl === file.url) return;
  viewerUrl = file.url;
  host.dataset.state = "loading";
  $("#viewer-wait").textContent = t("task.viewer_loading");
  try {
    const { RigViewer } = await import("/static/js/viewer.js");
    viewer = new RigViewer(host);
    const loaded = await viewer.load(file.url);
    $("#viewer-placeholder").hidden = true;
    host.dataset.state = "ready";
    host.dataset.bones = String(loaded.bones);
    host.dataset.clips = String(loaded.clips.length);
    setupTools(loaded);
  } catch (exc) {
    console.warn("3D preview:", exc);
    host.dataset.state = "error";
    host.querySelector(".spinner").hidden = true;
    $("#viewer-wait").textContent = t("task.viewer_error");
  }
}

let loadedInfo = null;
function setupTools(loaded) {
  loadedInfo = loaded;
  $("#viewer-tools").hidden = false;
  const select = $("#clip");
  const current = select.value;
  select.replaceChildren(
    el("option", { value: "" }, t("task.bind_pose")),
    ...loaded.clips.map((c) => el("option", { value: c }, t(`clip.${c}`) === `clip.${c}` ? c.replace(/_/g, " ") : t(`clip.${c}`))),
  );
  const initial = current || (loaded.clips.includes("idle") ? "idle" : loaded.clips[0] || "");
  select.value = initial;
  if (!current) viewer.play(initial || null);
  $("#viewer-info").textContent = t("task.viewer_info", { bones: loaded.bones, clips: loaded.clips.length });
}

$("#clip").addEventListener("change", (e) => { viewer?.play(e.target.value || null); paused = false; $("#pause").textContent = t("task.pause"); });
let paused = false;
$("#pause").addEventListener("click", () => { paused = !paused; viewer?.setPaused(paused); $("#pause").textContent = paused ? t("task.play") : t("task.pause"); });
$("#bones").addEventListener("change", (e) => viewer?.showSkeleton(e.target.checked));
$("#reset-view").addEventListener("click", () => viewer?.resetView());

onLang(() => {
  draw();
  if (loadedInfo) setupTools(loadedInfo);
  $("#pause").textContent = paused ? t("task.play") : t("task.pause");
});

if (!taskId) {
  $("#task-name").textContent = t("task.not_found_h");
  $("#load-error").hidden = false;
  $("#load-error").textContent = t("task.no_id");
} else {
  refresh();
}
