// My tasks: the signed-in person's tasks, newest first, refreshed while any is unfinished.
import { $, api, el, errorText, every, fmtAgo, fmtDate, fmtNumber, initPage, onLang, t } from "/static/js/app.js";

const info = await initPage("tasks");
let tasks = null;
let error = null;

function draw() {
  const list = $("#list");
  if (!info.viewer.signed_in) {
    list.replaceChildren(el("div", { class: "empty" },
      el("p", {}, t("tasks.sign_in_text")),
      el("a", { class: "btn", href: "/login?next=%2Ftasks" }, t("nav.sign_in"))));
    return;
  }
  if (error) { list.replaceChildren(el("div", { class: "notice error" }, error)); return; }
  if (!tasks) return;
  if (!tasks.length) {
    list.replaceChildren(el("div", { class: "empty" }, el("span", { class: "big" }, "🦴"),
      el("p", {}, t("tasks.empty")), el("a", { class: "btn", href: "/" }, t("tasks.new"))));
    return;
  }
  list.replaceChildren(...tasks.map((task) => {
    const pct = task.status === "done" ? 1 : task.progress;
    return el("a", { class: "task-row", href: `/task/${encodeURIComponent(task.task_id)}`, dataset: { task: task.task_id } },
      el("div", {}, el("div", { class: "name", title: task.source_name }, task.source_name),
        el("div", { class: "small faint", title: fmtDate(task.created_at) }, fmtAgo(task.created_at))),
      el("span", { class: `badge ${task.status}` }, t(`status.${task.status}`)),
      el("div", { class: "prog" }, el("div", { class: `bar thin ${task.status === "done" ? "done" : task.status === "error" ? "error" : "live"}` },
        el("div", { class: "fill", style: `width:${(pct * 100).toFixed(1)}%` })),
        el("div", { class: "small faint", style: "margin-top:4px" }, fmtNumber(pct, { style: "percent" }))),
      el("div", { class: "when small muted" }, task.finished_at ? t("tasks.finished", { when: fmtAgo(task.finished_at) }) : ""),
    );
  }));
}

if (info.viewer.signed_in) {
  const stop = every(5000, async () => {
    const r = await api("/api/me/tasks");
    if (r.ok) { tasks = r.data.tasks; error = null; } else error = errorText(r);
    draw();
    if (tasks && tasks.every((x) => x.status === "done" || x.status === "error")) stop();
  });
} else {
  draw();
}
onLang(draw);
