// Credits: the packs with their Gumroad links (carrying the person's email), the balance and its
// ledger, and API keys (created and shown once, listed, revoked).
import { $, api, el, errorText, fmtCredits, fmtDate, fmtNumber, initPage, onLang, setHeaderBalance, t, toast } from "/static/js/app.js";

const info = await initPage("credits");
let offers = null;
let credits = null;
let keys = null;
let newKey = null;

async function load() {
  const calls = [api("/api/payments/offers")];
  if (info.viewer.signed_in) calls.push(api("/api/credits"), api("/api/keys"));
  const [o, c, k] = await Promise.all(calls);
  offers = o.ok ? o.data : { offers: [], signed_in: info.viewer.signed_in, balance: null, note: "" };
  if (c?.ok) { credits = c.data; setHeaderBalance(credits.balance_credits); }
  if (k?.ok) keys = k.data;
  draw();
}

function draw() {
  const signedIn = info.viewer.signed_in;
  const anon = $("#anon");
  anon.hidden = signedIn;
  if (!signedIn) {
    anon.replaceChildren(t("credits.anon", { n: info.user_free_limit }), " ",
      el("a", { href: "/login?next=%2Fbuy-credits" }, t("nav.sign_in")));
  }
  drawPacks();
  $("#balance-card").hidden = !credits;
  $("#ledger-card").hidden = !credits;
  $("#keys-card").hidden = !signedIn;
  if (credits) {
    $("#balance").textContent = fmtNumber(credits.balance_credits);
    $("#balance").dataset.balance = String(credits.balance_credits);
    $("#prices").textContent = t("credits.prices", { file: credits.prices.file, all: credits.prices.all });
    drawLedger();
  }
  if (signedIn) drawKeys();
}

function drawPacks() {
  const box = $("#packs");
  if (!offers) { box.replaceChildren(el("span", { class: "spinner" })); return; }
  if (!offers.offers.length) {
    box.replaceChildren(el("p", { class: "muted", style: "margin:0" }, t("credits.no_packs")));
    $("#packs-note").textContent = "";
    return;
  }
  box.replaceChildren(...offers.offers.map((o) => el("div", { class: "pack" },
    el("div", { class: "credits" }, fmtNumber(o.credits)),
    el("div", { class: "muted small" }, packLabel(o)),
    el("div", { class: "small faint" }, t("credits.pack_models", { n: Math.floor(o.credits / Math.max(1, info.price_all_credits)) })),
    info.viewer.signed_in
      ? el("a", { class: "btn", href: o.url, rel: "noopener", dataset: { credits: o.credits } }, t("credits.buy"))
      : el("a", { class: "btn secondary", href: "/login?next=%2Fbuy-credits" }, t("credits.sign_in_to_buy")),
  )));
  $("#packs-note").textContent = signedNote();
}

/** The pack's own label when it says more than "N credits", else "credits" in the page's language. */
function packLabel(o) {
  const plain = !o.label || o.label.trim().toLowerCase() === `${o.credits} credits`;
  return plain ? fmtCredits(o.credits).replace(fmtNumber(o.credits), "").trim() : o.label;
}

function signedNote() {
  return info.viewer.signed_in ? t("credits.note", { email: info.viewer.email }) : t("credits.note_anon");
}

function drawLedger() {
  const table = $("#ledger");
  if (!credits.ledger.length) { table.replaceChildren(el("tbody", {}, el("tr", {}, el("td", { class: "empty" }, t("credits.ledger_empty"))))); return; }
  table.replaceChildren(
    el("thead", {}, el("tr", {}, el("th", {}, t("credits.col_when")), el("th", {}, t("credits.col_what")), el("th", { class: "num" }, t("credits.col_change")), el("th", { class: "num hide-m" }, t("credits.col_balance")))),
    el("tbody", {}, ...credits.ledger.map((e) => el("tr", {},
      el("td", { class: "nowrap small muted" }, fmtDate(e.created_at)),
      el("td", {}, reasonText(e), e.task_id ? el("div", { class: "small" }, el("a", { href: `/task/${encodeURIComponent(e.task_id)}` }, e.item && e.item !== "*" ? e.item : t("credits.task_link"))) : null),
      el("td", { class: `num amount ${e.amount >= 0 ? "plus" : "minus"}` }, `${e.amount >= 0 ? "+" : "−"}${fmtNumber(Math.abs(e.amount))}`),
      el("td", { class: "num hide-m" }, fmtNumber(e.balance_after)),
    ))));
}

function reasonText(e) {
  const key = `reason.${e.reason}`;
  const text = t(key);
  // An admin's note says why; the other reasons explain themselves (their notes are the server's English).
  return (text === key ? e.reason : text) + (e.note && e.reason === "admin" ? ` — ${e.note}` : "");
}

function drawKeys() {
  const once = $("#key-once");
  once.hidden = !newKey;
  if (newKey) {
    once.replaceChildren(
      el("div", { class: "small", style: "margin-bottom:6px;font-weight:650" }, t("keys.once")),
      el("div", { class: "key-once" }, el("code", { id: "new-key" }, newKey.key),
        el("button", { class: "btn small", type: "button", onclick: copyKey }, t("keys.copy"))),
      el("p", { class: "small muted", style: "margin:8px 0 0" }, t("keys.usage"), " ", el("code", {}, `Authorization: Bearer ${newKey.prefix}…`)),
    );
  }
  const box = $("#keys");
  if (!keys) { box.replaceChildren(); return; }
  if (!keys.length) { box.replaceChildren(el("p", { class: "small muted", style: "margin:0" }, t("keys.none"))); return; }
  box.replaceChildren(el("table", { class: "table" }, el("tbody", {}, ...keys.map((k) => el("tr", { dataset: { key: k.id } },
    el("td", {}, el("div", { style: "font-weight:600" }, k.name), el("div", { class: "small faint mono" }, `${k.prefix}…`),
      el("div", { class: "small faint" }, k.last_used_at ? t("keys.used", { when: fmtDate(k.last_used_at) }) : t("keys.unused"))),
    el("td", { class: "num" }, el("button", { class: "btn danger small", type: "button", onclick: () => revoke(k) }, t("keys.revoke"))),
  )))));
}

async function copyKey() {
  try {
    await navigator.clipboard.writeText(newKey.key);
    toast(t("keys.copied"));
  } catch {
    const range = document.createRange();
    range.selectNodeContents($("#new-key"));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    toast(t("keys.copy_manual"));
  }
}

async function revoke(k) {
  if (!confirm(t("keys.revoke_confirm", { name: k.name }))) return;
  const r = await api(`/api/keys/${encodeURIComponent(k.id)}`, { method: "DELETE" });
  if (!r.ok) { toast(errorText(r), "error"); return; }
  if (newKey && newKey.id === k.id) newKey = null;
  keys = keys.filter((x) => x.id !== k.id);
  toast(t("keys.revoked", { name: k.name }));
  drawKeys();
}

$("#key-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const name = $("#key-name").value.trim() || t("keys.default_name");
  const r = await api("/api/keys", { method: "POST", json: { name } });
  if (!r.ok) { toast(errorText(r), "error"); return; }
  newKey = r.data;
  $("#key-name").value = "";
  keys = [r.data, ...(keys || [])];
  drawKeys();
});

load();
onLang(draw);
