// Sign in: an emailed one-time link, or Google when the server has it configured.
import { $, ICONS, api, errorText, initPage, onLang, t } from "/static/js/app.js";

const info = await initPage("");
const params = new URLSearchParams(location.search);
// Only paths on this site: never send people elsewhere after signing in.
const rawNext = params.get("next") || "/";
const next = rawNext.startsWith("/") && !rawNext.startsWith("//") ? rawNext : "/";
let sentTo = null;

function draw() {
  $("#login-sub").textContent = t("login.sub", { n: info.user_free_limit });
  $("#sign-in").hidden = info.viewer.signed_in;
  $("#signed-in").hidden = !info.viewer.signed_in;
  if (info.viewer.signed_in) $("#already-text").textContent = t("login.already", { email: info.viewer.email });
  $("#google-box").hidden = !info.google_sign_in;
  $("#google").href = `/auth/google?next=${encodeURIComponent(next)}`;
  $("#google-icon").innerHTML = ICONS.google;
  if (sentTo) $("#sent").textContent = t("login.sent", { email: sentTo });
}

$("#email-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const email = $("#email").value.trim();
  const err = $("#error");
  err.hidden = true;
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) { err.hidden = false; err.textContent = t("login.bad_email"); return; }
  const button = e.target.querySelector("button");
  button.disabled = true;
  const r = await api("/api/auth/email", { method: "POST", json: { email, next } });
  button.disabled = false;
  if (!r.ok) { err.hidden = false; err.textContent = errorText(r); return; }
  sentTo = r.data.email;
  $("#sent").hidden = false;
  draw();
});

draw();
onLang(draw);
