// After paying on Gumroad: credits arrive with Gumroad's ping, usually within a minute; show the
// balance and follow it for a few minutes.
import { $, ICONS, api, every, fmtCredits, initPage, onLang, setHeaderBalance, t } from "/static/js/app.js";

const FOLLOW_MS = 5000;
const FOLLOW_FOR_MS = 5 * 60 * 1000;

const info = await initPage("credits");
$("#check").innerHTML = ICONS.check;
const start = info.viewer.balance_credits;
let balance = start;

function draw() {
  const box = $("#balance-box");
  box.hidden = !info.viewer.signed_in;
  if (box.hidden) return;
  const arrived = balance != null && start != null && balance > start;
  box.className = `notice ${arrived ? "ok" : ""}`;
  box.textContent = arrived ? t("payment.arrived", { n: balance - start, balance: fmtCredits(balance) }) : t("payment.balance", { balance: fmtCredits(balance ?? 0) });
}

if (info.viewer.signed_in) {
  const began = Date.now();
  const stop = every(FOLLOW_MS, async () => {
    const r = await api("/api/site");
    if (r.ok && r.data.viewer.balance_credits != null) {
      balance = r.data.viewer.balance_credits;
      setHeaderBalance(balance);
    }
    draw();
    if (Date.now() - began > FOLLOW_FOR_MS || (start != null && balance > start)) stop();
  });
}
draw();
onLang(draw);
