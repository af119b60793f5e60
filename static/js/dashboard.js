// The instructor dashboard: its forms answer in place (a toast) and the roster refreshes.
import { post, toast } from "./cluster-live.js";

document.addEventListener("submit", async (ev) => {
  const form = ev.target;
  if (form.dataset.confirm && !confirm(form.dataset.confirm)) { ev.preventDefault(); return; }
  if (!form.matches("[data-action-form]")) return; // plain forms (delete) submit normally
  ev.preventDefault();
  const res = await post(form.action, Object.fromEntries(new FormData(form)));
  toast(res.output, !res.ok);
  if (res.ok && (form.querySelector("[data-close-classroom]") || form.querySelector("[name=anonymise]"))) location.reload();
  const roster = document.querySelector("[data-roster-panel]");
  if (res.ok && roster && window.htmx) window.htmx.trigger(roster, "refresh");
});
