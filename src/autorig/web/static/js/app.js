// Shared by every page: language and formatting, the API, the header and footer, small DOM helpers.
import en from "/static/i18n/en.js";
import ru from "/static/i18n/ru.js";

export const DICTS = { en, ru };
const LANG_KEY = "autorig.lang";

function pickLang() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved && DICTS[saved]) return saved;
  for (const l of navigator.languages || [navigator.language || "en"]) {
    const base = String(l).toLowerCase().split("-")[0];
    if (DICTS[base]) return base;
  }
  return "en";
}

export let lang = pickLang();
const langListeners = [];

export function setLang(next) {
  if (!DICTS[next] || next === lang) return;
  lang = next;
  localStorage.setItem(LANG_KEY, next);
  document.documentElement.lang = next;
  applyI18n(document);
  renderChrome();
  for (const fn of langListeners) fn(next);
}

/** Call ``fn`` after the language changes (pages re-draw what they built from data). */
export function onLang(fn) { langListeners.push(fn); }

/** The text of ``key`` in the current language, ``{name}`` placeholders filled from ``vars``. */
export function t(key, vars = {}) {
  let s = DICTS[lang][key];
  if (s === undefined) s = en[key];
  if (s === undefined) return key;
  if (typeof s === "object") s = s[new Intl.PluralRules(lang).select(Number(vars.n ?? 0))] ?? s.other;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? (k === "n" ? fmtNumber(vars[k]) : String(vars[k])) : m));
}

export function fmtNumber(n, opts = {}) { return new Intl.NumberFormat(lang, opts).format(n); }

export function fmtCredits(n) { return t("credits.n", { n }); }

/** Bytes as "1.2 MB" / "1,2 МБ". */
export function fmtBytes(n) {
  if (n == null) return "—";
  const units = t("units.bytes").split(" ");
  let v = n, i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${fmtNumber(v, { maximumFractionDigits: i === 0 ? 0 : v < 10 ? 1 : 0 })} ${units[i]}`;
}

/** A wait in seconds as "in 3 minutes" / "через 3 минуты" (``estimated_wait_seconds``). */
export function fmtWait(seconds) {
  if (seconds == null) return t("wait.unknown");
  if (seconds < 45) return t("wait.now");
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "always" });
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return rtf.format(minutes, "minute");
  const hours = Math.round((minutes / 60) * 2) / 2;
  return rtf.format(hours, "hour");
}

/** A duration in seconds as "45 s" / "2 min 5 s". */
export function fmtDuration(seconds) {
  if (seconds == null || !isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  const unit = (v, u) => new Intl.NumberFormat(lang, { style: "unit", unit: u, unitDisplay: "short" }).format(v);
  if (s < 60) return unit(s, "second");
  const m = Math.floor(s / 60), r = s % 60;
  if (m < 60) return r ? `${unit(m, "minute")} ${unit(r, "second")}` : unit(m, "minute");
  const h = Math.floor(m / 60);
  return `${unit(h, "hour")} ${unit(m % 60, "minute")}`;
}

export function fmtDate(iso, withTime = true) {
  if (!iso) return "—";
  const opts = withTime ? { dateStyle: "medium", timeStyle: "short" } : { dateStyle: "medium" };
  return new Intl.DateTimeFormat(lang, opts).format(new Date(iso));
}

/** "3 minutes ago" / "3 минуты назад". */
export function fmtAgo(iso) {
  if (!iso) return "—";
  const diff = (new Date(iso).getTime() - Date.now()) / 1000;
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  const a = Math.abs(diff);
  if (a < 60) return rtf.format(Math.round(diff), "second");
  if (a < 3600) return rtf.format(Math.round(diff / 60), "minute");
  if (a < 86400) return rtf.format(Math.round(diff / 3600), "hour");
  if (a < 86400 * 30) return rtf.format(Math.round(diff / 86400), "day");
  return fmtDate(iso, false);
}

// --- the API ------------------------------------------------------------------------------

/** ``{ok, status, data}``; never throws for an HTTP error status (pages show ``errorText``). */
export async function api(path, { method = "GET", json, body, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  } else if (body !== undefined) {
    init.body = body;
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (exc) {
    return { ok: false, status: 0, data: { error: "network", detail: String(exc) } };
  }
  let data = null;
  const text = await r.text();
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: "bad_response", detail: text.slice(0, 300) }; }
  return { ok: r.ok, status: r.status, data };
}

/** A readable sentence for a failed API call, in the page's language, with the server's detail. */
export function errorText(res) {
  const kind = res?.data?.error;
  const known = {
    network: "err.network", UploadTooLarge: "err.too_large", BadUpload: "err.bad_upload",
    SignInRequired: "err.sign_in", PaymentRequired: "err.payment", TooManyRequests: "err.too_many",
    Unavailable: "err.unavailable", NotFound: "err.not_found", Forbidden: "err.forbidden",
    RestartNotAllowed: "err.restart_not_allowed",
  };
  const head = known[kind] ? t(known[kind]) : t("err.generic", { status: res?.status ?? "?" });
  const detail = res?.data?.detail;
  const text = typeof detail === "string" ? detail : Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : "";
  // In English the server's own sentence says it best; in another language, ours first, then it.
  if (text && lang === "en" && known[kind]) return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
  return text ? `${head} (${text})` : head;
}

let siteCache = null;
/** ``GET /api/site``: limits, prices, and who is looking. */
export async function site(refresh = false) {
  if (!siteCache || refresh) {
    const r = await api("/api/site");
    siteCache = r.ok ? r.data : {
      max_upload_mb: 200, formats: ["glb", "gltf", "vrm", "fbx", "obj", "zip"], anon_free_limit: 3, anon_tasks_left: null,
      user_free_limit: 30, price_file_credits: 1, price_all_credits: 3, google_sign_in: false,
      viewer: { signed_in: false, email: null, is_admin: false, balance_credits: null }, offline: true,
    };
    renderChrome();
  }
  return siteCache;
}

// --- DOM ----------------------------------------------------------------------------------

/** ``el("a", {href, class: "btn"}, "text", child)``; ``on*`` attributes become listeners. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "html") node.innerHTML = v; // only for our own static SVG icons
    else if (v === true) node.setAttribute(k, "");
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** Fill ``data-i18n`` (text), ``data-i18n-placeholder``, ``data-i18n-title``, ``data-i18n-aria``. */
export function applyI18n(root) {
  for (const n of root.querySelectorAll("[data-i18n]")) n.textContent = t(n.dataset.i18n, varsOf(n));
  for (const n of root.querySelectorAll("[data-i18n-placeholder]")) n.placeholder = t(n.dataset.i18nPlaceholder);
  for (const n of root.querySelectorAll("[data-i18n-title]")) n.title = t(n.dataset.i18nTitle);
  for (const n of root.querySelectorAll("[data-i18n-aria]")) n.setAttribute("aria-label", t(n.dataset.i18nAria));
  const title = document.querySelector("title[data-i18n-page]");
  if (title) document.title = `${t(title.dataset.i18nPage)} · autorig`;
}

function varsOf(n) {
  const out = {};
  for (const [k, v] of Object.entries(n.dataset)) if (k.startsWith("v") && k.length > 1) out[k[1].toLowerCase() + k.slice(2)] = v;
  return out;
}

let toastTimer = null;
export function toast(message, kind = "") {
  let box = $(".toast");
  if (!box) { box = el("div", { class: "toast", role: "status" }); document.body.append(box); }
  box.className = `toast ${kind}`;
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 4500);
}

export const ICONS = {
  logo: `<svg viewBox="0 0 32 32" aria-hidden="true"><rect width="32" height="32" rx="9" fill="#5b4cf0"/><g stroke="#fff" stroke-width="2.2" stroke-linecap="round" fill="none"><path d="M16 9.5v8M16 17.5l-4.5 6.5M16 17.5l4.5 6.5M9.5 13h13"/></g><g fill="#7ef0e0"><circle cx="16" cy="6.6" r="2.6"/><circle cx="16" cy="17.5" r="1.9"/><circle cx="9.5" cy="13" r="1.7"/><circle cx="22.5" cy="13" r="1.7"/><circle cx="11.5" cy="24" r="1.7"/><circle cx="20.5" cy="24" r="1.7"/></g></svg>`,
  upload: `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M12 15V4M7.5 8.5 12 4l4.5 4.5"/><path d="M4 14.5v3A2.5 2.5 0 0 0 6.5 20h11a2.5 2.5 0 0 0 2.5-2.5v-3"/></svg>`,
  download: `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M12 4v11M7.5 10.5 12 15l4.5-4.5M5 19h14"/></svg>`,
  check: `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="m5 12.5 4.5 4.5L19 7.5"/></svg>`,
  google: `<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="#4285F4" d="M22.6 12.3c0-.8-.1-1.5-.2-2.2H12v4.2h5.9a5 5 0 0 1-2.2 3.3v2.7h3.6c2.1-1.9 3.3-4.8 3.3-8z"/><path fill="#34A853" d="M12 23c3 0 5.5-1 7.3-2.7l-3.6-2.7c-1 .7-2.2 1.1-3.7 1.1-2.9 0-5.3-1.9-6.2-4.5H2.1v2.8A11 11 0 0 0 12 23z"/><path fill="#FBBC05" d="M5.8 14.2a6.6 6.6 0 0 1 0-4.3V7.1H2.1a11 11 0 0 0 0 9.9l3.7-2.8z"/><path fill="#EA4335" d="M12 5.4c1.6 0 3.1.6 4.2 1.7l3.2-3.2A11 11 0 0 0 2.1 7.1l3.7 2.8C6.7 7.3 9.1 5.4 12 5.4z"/></svg>`,
};

// --- header and footer --------------------------------------------------------------------

let activeNav = "";

function renderChrome() {
  const header = $("#site-header");
  if (header) {
    header.replaceChildren(headerContent());
    header.classList.toggle("signed-in", Boolean(siteCache?.viewer?.signed_in));
  }
  const footer = $("#site-footer");
  if (footer) footer.replaceChildren(footerContent());
}

function headerContent() {
  const v = siteCache?.viewer;
  const link = (href, key, id) => el("a", { href, class: activeNav === id ? "active" : "", "aria-current": activeNav === id ? "page" : null }, t(key));
  const nav = el("nav", { class: "nav", "aria-label": t("nav.label") },
    link("/", "nav.rig", "home"),
    v?.signed_in ? link("/tasks", "nav.tasks", "tasks") : null,
    link("/buy-credits", "nav.credits", "credits"),
    v?.is_admin ? link("/admin", "nav.admin", "admin") : null,
  );
  const account = el("div", { class: "account" });
  if (v?.signed_in) {
    account.append(
      el("a", { class: "pill", href: "/buy-credits", title: t("nav.balance_title"), id: "balance-pill" }, fmtCredits(v.balance_credits ?? 0)),
      el("span", { class: "email", title: v.email }, v.email),
      el("button", { class: "btn secondary small", type: "button", onclick: signOut }, t("nav.sign_out")),
    );
  } else if (siteCache) {
    const next = encodeURIComponent(location.pathname + location.search);
    account.append(el("a", { class: "btn small", href: `/login?next=${next}` }, t("nav.sign_in")));
  }
  const langBox = el("div", { class: "lang", role: "group", "aria-label": t("nav.language") },
    ...Object.keys(DICTS).map((l) => el("button", { type: "button", "aria-pressed": String(l === lang), lang: l, onclick: () => setLang(l) }, l.toUpperCase())));
  account.append(langBox);
  return el("div", { class: "container" },
    el("a", { class: "brand", href: "/", html: ICONS.logo + "<span>autorig</span>" }),
    nav, account);
}

function footerContent() {
  return el("div", { class: "container" },
    el("span", {}, t("footer.tagline")),
    el("span", {}, el("a", { href: "/buy-credits" }, t("nav.credits")), " · ", el("a", { href: "/api/queue/status" }, t("footer.status")), " · ", el("a", { href: "/docs" }, "API")),
  );
}

async function signOut() {
  await api("/api/auth/logout", { method: "POST" });
  location.href = "/";
}

/** Set up a page: language, header (``nav`` names the active link), footer; resolves to ``site()``. */
export async function initPage(nav = "") {
  activeNav = nav;
  document.documentElement.lang = lang;
  applyI18n(document);
  renderChrome();
  return site();
}

/** The balance shown in the header, after a download or a purchase changed it. */
export function setHeaderBalance(balance) {
  if (siteCache?.viewer && balance != null) {
    siteCache.viewer.balance_credits = balance;
    const pill = $("#balance-pill");
    if (pill) pill.textContent = fmtCredits(balance);
  }
}

/** Run ``fn`` every ``ms`` while the page is visible (and once at once); returns a stopper. */
export function every(ms, fn) {
  let timer = null, stopped = false;
  const tick = async () => {
    if (stopped) return;
    if (!document.hidden) { try { await fn(); } catch (exc) { console.warn(exc); } }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  const wake = () => { if (!document.hidden && !stopped) { clearTimeout(timer); tick(); } };
  document.addEventListener("visibilitychange", wake);
  tick();
  return () => { stopped = true; clearTimeout(timer); document.removeEventListener("visibilitychange", wake); };
}
