// Admin: people and balances (search, adjust), a person's tasks (restart, delete), any task by id,
// workers and their health, the queue, restarting the service, Gumroad pings.
import { $, api, el, errorText, fmtAgo, fmtDate, fmtDuration, fmtNumber, initPage, onLang, t, toast } from "/static/js/app.js";

const info = await initPage("admin");
const state = { tab: "users", users: null, total: 0, user: null, userTasks: null, found: null, workers: null, service: null, payments: null };

const TABS = ["users", "tasks", "workers", "payments"];

function showTab(name) {
  state.tab = TABS.includes(name) ? name : "users";
  for (const b of document.querySelectorAll("[data-tab]")) b.setAttribute("aria-selected", String(b.dataset.tab === state.tab));
  for (const p of document.querySelectorAll("[data-panel]")) p.hidden = p.dataset.panel !== state.tab;
  if (location.hash.slice(1) !== state.tab) history.replaceState(null, "", `#${state.tab}`);
  if (state.tab === "workers") loadWorkers();
  if (state.tab === "payments" && !state.payments) loadPayments();
}

// --- users --------------------------------------------------------------------------------

async function loadUsers() {
  const q = $("#q").value.trim();
  const r = await api(`/api/admin/users?q=${encodeURIComponent(q)}`);
  if (!r.ok) { toast(errorText(r), "error"); return; }
  state.users = r.data.users;
  state.total = r.data.total;
  drawUsers();
}

function drawUsers() {
  $("#users-total").textContent = state.users ? t("admin.users_total", { n: state.total }) : "";
  if (!state.users) return;
  $("#users").replaceChildren(
    el("thead", {}, el("tr", {}, el("th", {}, t("admin.col_email")), el("th", { class: "num" }, t("admin.col_balance")), el("th", { class: "num hide-m" }, t("admin.col_tasks")), el("th", { class: "hide-m" }, t("admin.col_joined")), el("th", {}))),
    el("tbody", {}, ...state.users.map((u) => el("tr", { dataset: { user: u.email } },
      el("td", {}, u.email, u.is_admin ? el("span", { class: "badge plain", style: "margin-left:6px" }, "admin") : null, u.name ? el("div", { class: "small faint" }, u.name) : null),
      el("td", { class: "num" }, fmtNumber(u.balance_credits)),
      el("td", { class: "num hide-m" }, fmtNumber(u.tasks)),
      el("td", { class: "hide-m small muted" }, fmtDate(u.created_at, false)),
      el("td", { class: "num" }, el("button", { class: "btn secondary small", type: "button", onclick: () => openUser(u.id) }, t("admin.open"))),
    ))),
  );
}

async function openUser(id) {
  const [d, tk] = await Promise.all([api(`/api/admin/users/${encodeURIComponent(id)}`), api(`/api/admin/users/${encodeURIComponent(id)}/tasks`)]);
  if (!d.ok) { toast(errorText(d), "error"); return; }
  state.user = d.data;
  state.userTasks = tk.ok ? tk.data.tasks : [];
  drawUser();
  $("#user-card").scrollIntoView({ behavior: "smooth", block: "start" });
}

function drawUser() {
  const card = $("#user-card");
  card.hidden = !state.user;
  if (!state.user) return;
  const u = state.user.user;
  const form = el("form", { class: "adjust", id: "adjust-form" },
    el("input", { type: "number", id: "adjust-amount", step: "1", required: true, placeholder: "+10 / -5", "aria-label": t("admin.amount") }),
    el("input", { type: "text", id: "adjust-note", maxlength: "500", placeholder: t("admin.note"), "aria-label": t("admin.note"), style: "flex:1 1 180px" }),
    el("button", { class: "btn small", type: "submit" }, t("admin.adjust")));
  form.addEventListener("submit", (e) => { e.preventDefault(); adjust(u.id); });
  card.replaceChildren(
    el("div", { class: "card-head" }, el("h2", {}, u.email), el("button", { class: "btn ghost small", type: "button", onclick: () => { state.user = null; drawUser(); } }, t("admin.close"))),
    el("div", { class: "grid-2" },
      el("div", {},
        el("div", { class: "muted small" }, t("credits.balance")),
        el("div", { class: "balance-big", id: "user-balance" }, fmtNumber(u.balance_credits)),
        el("p", { class: "small muted", style: "margin:8px 0 0" }, t("admin.user_meta", { joined: fmtDate(u.created_at, false), seen: u.last_login_at ? fmtAgo(u.last_login_at) : "—", keys: state.user.api_keys.length })),
        form),
      el("div", {}, el("h3", {}, t("admin.ledger_h")),
        el("table", { class: "table small" }, el("tbody", {}, ...state.user.ledger.slice(0, 8).map((e) => el("tr", {},
          el("td", { class: "muted nowrap" }, fmtDate(e.created_at)),
          el("td", {}, t(`reason.${e.reason}`) === `reason.${e.reason}` ? e.reason : t(`reason.${e.reason}`), e.actor ? el("span", { class: "faint" }, ` · ${e.actor}`) : null, e.note && e.reason === "admin" ? el("div", { class: "small faint" }, e.note) : null),
          el("td", { class: `num amount ${e.amount >= 0 ? "plus" : "minus"}` }, `${e.amount >= 0 ? "+" : "−"}${fmtNumber(Math.abs(e.amount))}`))))))),
    el("h3", { style: "margin-top:18px" }, t("admin.user_tasks_h", { n: state.userTasks.length })),
    taskTable(state.userTasks),
  );
}

async function adjust(userId) {
  const amount = parseInt($("#adjust-amount").value, 10);
  if (!Number.isFinite(amount) || amount === 0) { toast(t("admin.amount_bad"), "error"); return; }
  const note = $("#adjust-note").value.trim() || null;
  const r = await api(`/api/admin/users/${encodeURIComponent(userId)}/credits`, { method: "POST", json: { amount, note } });
  if (!r.ok) { toast(errorText(r), "error"); return; }
  toast(t("admin.adjusted", { n: r.data.balance_credits }));
  await openUser(userId);
  if (state.users) loadUsers();
}

// --- tasks --------------------------------------------------------------------------------

function taskTable(tasks) {
  if (!tasks.length) return el("p", { class: "muted small" }, t("admin.no_tasks"));
  return el("div", { class: "table-wrap" }, el("table", { class: "table" }, el("tbody", {}, ...tasks.map((task) => el("tr", { dataset: { task: task.task_id } },
    el("td", {}, el("a", { href: `/task/${encodeURIComponent(task.task_id)}` }, task.source_name), el("div", { class: "small faint mono" }, task.task_id)),
    el("td", {}, el("span", { class: `badge ${task.status}` }, t(`status.${task.status}`))),
    el("td", { class: "small muted hide-m" }, fmtAgo(task.created_at)),
    el("td", {}, el("div", { class: "actions" },
      el("button", { class: "btn secondary small", type: "button", dataset: { action: "restart" }, onclick: () => restartTask(task.task_id) }, t("admin.restart")),
      el("button", { class: "btn danger small", type: "button", dataset: { action: "delete" }, onclick: () => deleteTask(task.task_id, task.source_name) }, t("admin.delete")))),
  )))));
}

async function restartTask(id) {
  const r = await api(`/api/admin/task/${encodeURIComponent(id)}/restart`, { method: "POST" });
  if (!r.ok) { toast(errorText(r), "error"); return; }
  toast(t("admin.restarted"));
  await afterTaskChange(id);
}

async function deleteTask(id, name) {
  if (!confirm(t("admin.delete_confirm", { name }))) return;
  const r = await api(`/api/admin/task/${encodeURIComponent(id)}`, { method: "DELETE" });
  if (!r.ok) { toast(errorText(r), "error"); return; }
  toast(t("admin.deleted", { name }));
  if (state.found?.task_id === id) { state.found = null; drawFound(); }
  await afterTaskChange(id, true);
}

async function afterTaskChange(id, deleted = false) {
  if (state.user) await openUser(state.user.user.id);
  if (state.found && state.found.task_id === id && !deleted) await findTask(id);
}

async function findTask(id) {
  const r = await api(`/api/task/${encodeURIComponent(id)}`);
  state.found = r.ok ? r.data : { error: r.status === 404 ? t("task.not_found") : errorText(r) };
  drawFound();
}

function drawFound() {
  const box = $("#task-found");
  const f = state.found;
  if (!f) { box.replaceChildren(); return; }
  if (f.error) { box.replaceChildren(el("div", { class: "notice error" }, f.error)); return; }
  box.replaceChildren(
    el("dl", { class: "kv" },
      el("dt", {}, t("admin.k_name")), el("dd", {}, el("a", { href: `/task/${encodeURIComponent(f.task_id)}` }, f.source_name)),
      el("dt", {}, t("admin.k_status")), el("dd", {}, el("span", { class: `badge ${f.status}` }, t(`status.${f.status}`)), " ", fmtNumber(f.progress, { style: "percent" })),
      el("dt", {}, t("admin.k_worker")), el("dd", {}, f.internal?.worker || f.internal?.fbx_worker || "—"),
      el("dt", {}, t("admin.k_attempts")), el("dd", {}, `${f.attempts} / ${f.restarts}`),
      el("dt", {}, t("admin.k_created")), el("dd", {}, fmtDate(f.created_at)),
      f.error || f.internal?.last_error ? el("dt", {}, t("admin.k_error")) : null, f.error || f.internal?.last_error ? el("dd", {}, f.error || f.internal.last_error) : null),
    el("div", { class: "actions", style: "justify-content:flex-start;margin-top:14px" },
      el("button", { class: "btn secondary small", type: "button", onclick: () => restartTask(f.task_id) }, t("admin.restart")),
      el("button", { class: "btn danger small", type: "button", onclick: () => deleteTask(f.task_id, f.source_name) }, t("admin.delete"))),
  );
}

// --- workers and service ------------------------------------------------------------------

async function loadWorkers() {
  const [w, s] = await Promise.all([api("/api/admin/workers"), api("/api/admin/service")]);
  if (w.ok) state.workers = w.data;
  if (s.ok) state.service = s.data;
  drawWorkers();
}

function drawWorkers() {
  if (!state.workers) return;
  const q = state.workers.queue;
  const stat = (value, label) => el("div", { class: "card" }, el("div", { class: "balance-big", style: "font-size:1.9rem" }, value), el("div", { class: "muted small" }, label));
  $("#queue-stats").replaceChildren(
    stat(q.workers, t("home.st_workers")),
    stat(fmtNumber(q.tasks_waiting), t("home.st_waiting")),
    stat(fmtNumber(q.tasks_processing), t("home.st_processing")),
  );
  $("#workers").replaceChildren(
    el("thead", {}, el("tr", {}, el("th", {}, t("admin.col_worker")), el("th", {}, t("admin.col_health")), el("th", { class: "num" }, t("admin.col_slots")), el("th", { class: "num hide-m" }, t("admin.col_avg")), el("th", { class: "hide-m" }, t("admin.col_seen")))),
    el("tbody", {}, ...state.workers.workers.map((w) => el("tr", { dataset: { worker: w.url } },
      el("td", {}, el("span", { class: "mono small" }, w.url), w.version ? el("div", { class: "small faint" }, `v${w.version}`) : null,
        w.last_error ? el("div", { class: "small", style: "color:var(--err)" }, w.last_error) : null,
        w.tasks.length ? el("div", { class: "small faint" }, t("admin.worker_tasks", { n: w.tasks.length })) : null),
      el("td", {}, el("span", { class: `badge ${w.answering ? "online" : "offline"}` }, w.answering ? t("admin.online") : t("admin.offline")),
        w.answering && !w.accepting ? el("div", { class: "small faint" }, t("admin.not_accepting")) : null),
      el("td", { class: "num" }, `${fmtNumber(w.free_slots)} / ${fmtNumber(w.capacity)}`),
      el("td", { class: "num hide-m" }, w.avg_job_seconds ? fmtDuration(w.avg_job_seconds) : "—"),
      el("td", { class: "hide-m small muted" }, w.last_seen_at ? fmtAgo(w.last_seen_at) : "—"),
    ))),
  );
  const s = state.service;
  if (s) {
    $("#service").replaceChildren(
      el("dt", {}, t("admin.s_instance")), el("dd", {}, s.instance_id),
      el("dt", {}, "PID"), el("dd", { id: "service-pid" }, String(s.pid)),
      el("dt", {}, t("admin.s_started")), el("dd", {}, `${fmtDate(s.started_at)} (${fmtAgo(s.started_at)})`),
      el("dt", {}, t("admin.s_restart")), el("dd", { class: "mono small" }, s.restart),
    );
  }
}

$("#service-restart").addEventListener("click", async () => {
  if (!confirm(t("admin.service_confirm"))) return;
  const before = state.service?.started_at;
  const r = await api("/api/admin/service/restart", { method: "POST" });
  if (!r.ok) { toast(errorText(r), "error"); return; }
  $("#service-note").textContent = t("admin.service_restarting");
  for (let i = 0; i < 60; i++) {
    await new Promise((res) => setTimeout(res, 1000));
    const s = await api("/api/admin/service");
    if (s.ok && s.data.started_at !== before) {
      $("#service-note").textContent = t("admin.service_back");
      loadWorkers();
      return;
    }
  }
  $("#service-note").textContent = t("admin.service_slow");
});

// --- payments -----------------------------------------------------------------------------

async function loadPayments() {
  const r = await api("/api/admin/payments");
  state.payments = r.ok ? r.data : [];
  drawPayments();
}

function drawPayments() {
  if (!state.payments) return;
  const table = $("#payments");
  if (!state.payments.length) { table.replaceChildren(el("tbody", {}, el("tr", {}, el("td", { class: "empty" }, t("admin.no_payments"))))); return; }
  table.replaceChildren(
    el("thead", {}, el("tr", {}, el("th", {}, t("credits.col_when")), el("th", {}, t("admin.col_email")), el("th", {}, t("admin.col_kind")), el("th", { class: "num" }, t("admin.col_credits")), el("th", { class: "hide-m" }, t("admin.col_sale")))),
    el("tbody", {}, ...state.payments.map((p) => el("tr", {},
      el("td", { class: "small muted nowrap" }, fmtDate(p.created_at)),
      el("td", {}, p.email || p.buyer_email || "—", p.test ? el("span", { class: "badge plain", style: "margin-left:6px" }, "test") : null),
      el("td", {}, `${p.kind} · ${p.status}`, p.note ? el("div", { class: "small faint" }, p.note) : null),
      el("td", { class: "num" }, fmtNumber(p.applied_credits), p.shortfall ? el("div", { class: "small", style: "color:var(--err)" }, `−${p.shortfall}`) : null),
      el("td", { class: "mono small hide-m" }, p.sale_id),
    ))),
  );
}

// --- wiring -------------------------------------------------------------------------------

if (!info.viewer.is_admin) {
  const box = $("#denied");
  box.hidden = false;
  box.replaceChildren(info.viewer.signed_in ? t("admin.denied") : t("admin.sign_in"), " ",
    info.viewer.signed_in ? null : el("a", { href: "/login?next=%2Fadmin" }, t("nav.sign_in")));
} else {
  $("#admin").hidden = false;
  for (const b of document.querySelectorAll("[data-tab]")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("#user-search").addEventListener("submit", (e) => { e.preventDefault(); loadUsers(); });
  $("#task-form").addEventListener("submit", (e) => { e.preventDefault(); const id = $("#task-id").value.trim(); if (id) findTask(id); });
  $("#workers-refresh").addEventListener("click", loadWorkers);
  showTab(location.hash.slice(1));
  loadUsers();
  onLang(() => { drawUsers(); drawUser(); drawFound(); drawWorkers(); drawPayments(); });
}
