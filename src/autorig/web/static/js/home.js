// Home: drop or pick a model (or paste a link), upload with progress, live worker/queue status.
import { $, ICONS, api, el, errorText, every, fmtBytes, fmtDuration, fmtNumber, fmtWait, initPage, onLang, t } from "/static/js/app.js";

const info = await initPage("home");
const maxBytes = info.max_upload_mb * 1024 * 1024;
let lastStatus = null;
let uploading = false;

$("#drop-icon").innerHTML = ICONS.upload;
const touch = matchMedia("(pointer: coarse)").matches; // phones: nothing to drop, a file to pick

function drawStatic() {
  $("#drop .title").textContent = t(touch ? "home.drop_touch" : "home.drop");
  const formats = info.formats.map((f) => (f === "gltf" ? "glTF" : f.toUpperCase())).join(", ");
  $("#limits").textContent = t("home.limits", { formats, size: fmtNumber(info.max_upload_mb) });
  $("#free-text").textContent = t("home.free_text", {
    anon: info.anon_free_limit, credits: info.user_free_limit, file: info.price_file_credits, all: info.price_all_credits,
  });
  const emailField = $("#email").closest("label");
  emailField.querySelector("span").textContent = info.viewer.signed_in ? t("home.email_signed_in", { email: info.viewer.email }) : t("home.email_label");
  $("#email").hidden = info.viewer.signed_in;
  drawAnonNote();
  if (lastStatus) drawStatus(lastStatus);
}

function drawAnonNote() {
  const note = $("#anon-note");
  if (info.viewer.signed_in || info.anon_tasks_left == null) { note.hidden = true; return; }
  note.hidden = false;
  const next = encodeURIComponent("/");
  const left = info.anon_tasks_left;
  note.className = left > 0 ? "notice" : "notice warn";
  note.replaceChildren(
    left > 0 ? t("home.anon_left", { n: left, limit: info.anon_free_limit }) : t("home.anon_none", { limit: info.anon_free_limit }),
    " ",
    el("a", { href: `/login?next=${next}` }, t("home.anon_sign_in", { n: info.user_free_limit })),
  );
}

function drawStatus(q) {
  lastStatus = q;
  const online = q.workers_online > 0;
  $("#status-servers").replaceChildren(el("span", { class: `live-dot${online ? "" : " off"}` }), " ", online ? t("home.live") : t("home.offline"));
  $("#st-workers").textContent = q.workers;
  $("#st-workers").title = t("home.st_workers_title", { online: q.workers_online, total: q.workers_total });
  $("#st-waiting").textContent = fmtNumber(q.tasks_waiting);
  $("#st-processing").textContent = fmtNumber(q.tasks_processing);
  $("#st-job").textContent = fmtDuration(q.avg_job_seconds);
  $("#st-wait").textContent = online ? t("home.st_wait", { when: fmtWait(q.estimated_wait_seconds) }) : t("home.st_no_workers");
}

every(10000, async () => {
  const r = await api("/api/queue/status");
  if (r.ok) drawStatus(r.data);
});

// --- choosing a file ----------------------------------------------------------------------

const drop = $("#drop");
for (const ev of ["dragenter", "dragover"]) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
for (const ev of ["dragleave", "drop"]) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.remove("over"); });
drop.addEventListener("drop", (e) => { const f = e.dataTransfer?.files?.[0]; if (f) upload(f); });
$("#file").addEventListener("change", (e) => { const f = e.target.files?.[0]; if (f) upload(f); });

function showError(message) {
  const box = $("#upload-error");
  box.hidden = !message;
  box.textContent = message || "";
}

function check(file) {
  const ext = file.name.includes(".") ? file.name.split(".").pop().toLowerCase() : "";
  if (!info.formats.includes(ext)) return t("home.err_format", { name: file.name });
  if (file.size > maxBytes) return t("home.err_size", { size: fmtBytes(file.size), max: fmtNumber(info.max_upload_mb) });
  if (file.size === 0) return t("home.err_empty", { name: file.name });
  return null;
}

function options() {
  const out = { skeleton: $("#skeleton").value, fingers: $("#fingers").value };
  const email = $("#email").value.trim();
  if (email && !info.viewer.signed_in) out.email = email;
  return out;
}

function setProgress(loaded, total) {
  const frac = total ? loaded / total : 0;
  const bar = $("#upload-bar");
  bar.querySelector(".fill").style.width = `${(frac * 100).toFixed(1)}%`;
  bar.dataset.progress = frac.toFixed(3);
  $("#upload-numbers").textContent = t("home.uploaded", {
    pct: fmtNumber(frac, { style: "percent" }), done: fmtBytes(loaded), total: fmtBytes(total),
  });
}

function upload(file) {
  if (uploading) return;
  const problem = check(file);
  showError(problem);
  if (problem) return;
  uploading = true;
  $("#upload-state").hidden = false;
  $("#upload-name").textContent = t("home.uploading", { name: file.name });
  setProgress(0, file.size);
  const form = new FormData();
  form.append("file", file, file.name);
  for (const [k, v] of Object.entries(options())) form.append(k, v);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/task/create");
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.addEventListener("progress", (e) => setProgress(e.loaded, e.lengthComputable ? e.total : file.size));
  xhr.addEventListener("load", () => {
    let data = null;
    try { data = JSON.parse(xhr.responseText); } catch { data = { detail: xhr.responseText.slice(0, 200) }; }
    if (xhr.status === 201 && data?.task_id) {
      setProgress(file.size, file.size);
      $("#upload-name").textContent = t("home.uploaded_go");
      location.href = `/task/${encodeURIComponent(data.task_id)}`;
      return;
    }
    failed({ ok: false, status: xhr.status, data });
  });
  xhr.addEventListener("error", () => failed({ ok: false, status: 0, data: { error: "network", detail: "" } }));
  xhr.send(form);
}

function failed(res) {
  uploading = false;
  $("#upload-state").hidden = true;
  $("#file").value = "";
  showError(errorText(res));
}

$("#url-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const url = $("#url").value.trim();
  if (!/^https?:\/\/\S+$/i.test(url)) { showError(t("home.err_url")); return; }
  showError(null);
  const button = e.target.querySelector("button");
  button.disabled = true;
  const r = await api("/api/task/create", { method: "POST", json: { input_url: url, ...options() } });
  button.disabled = false;
  if (r.ok) location.href = `/task/${encodeURIComponent(r.data.task_id)}`;
  else showError(errorText(r));
});

drawStatic();
onLang(drawStatic);
