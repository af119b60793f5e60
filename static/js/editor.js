// The YAML editor: examples, a live preview, apply/delete with errors marked in Ace's gutter,
// and a mini-map of the cluster. Without JavaScript the form posts and the page shows the result.
import { appOf, connect, csrfToken, ownerIndex } from "./cluster-live.js";

const body = document.body;
const slug = body.dataset.cluster;
const $ = (sel, root = document) => root.querySelector(sel);
const form = $("[data-apply-form]");
const textarea = form.querySelector("textarea");
const result = $("[data-result]");
const previewList = $("[data-preview]");

function editor() {
  const widget = document.querySelector(".django-ace-widget");
  return widget && widget.editor ? widget.editor : null;
}

function getText() {
  const ed = editor();
  return ed ? ed.getValue() : textarea.value;
}

function setText(text) {
  const ed = editor();
  if (ed) ed.setValue(text, -1);
  textarea.value = text;
  mark(null);
  schedulePreview();
}

function mark(line, message) {
  const ed = editor();
  if (!ed) return;
  const session = ed.getSession();
  if (line) {
    session.setAnnotations([{ row: line - 1, column: 0, text: message, type: "error" }]);
    ed.scrollToLine(line - 1, true, true, () => {});
    ed.gotoLine(line, 0, false);
  } else {
    session.clearAnnotations();
  }
}

function showResult(text, isError) {
  result.textContent = text;
  result.classList.toggle("error", Boolean(isError));
}

async function send(url) {
  const data = new URLSearchParams(new FormData(form));
  data.set("manifest", getText());
  const res = await fetch(url, { method: "POST", headers: { "X-CSRFToken": csrfToken(), Accept: "application/json", "X-KubeLab-UI": "1" }, body: data });
  let json;
  try { json = await res.json(); } catch { json = { ok: false, error: `${res.status} ${res.statusText}` }; }
  return json;
}

async function submit(url) {
  const json = await send(url);
  if (json.ok) {
    showResult((json.lines || []).join("\n"), false);
    mark(null);
  } else {
    const where = json.line ? `\n  at line ${json.line}${json.field ? ": " + json.field : ""}` : "";
    showResult(json.error + where, true);
    mark(json.line, json.error);
  }
  schedulePreview();
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const deleting = ev.submitter && ev.submitter.hasAttribute("data-delete");
  submit(deleting ? ev.submitter.formAction : form.action);
});

document.addEventListener("keydown", (ev) => {
  if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") { ev.preventDefault(); submit(form.action); }
});

document.querySelectorAll("[data-example]").forEach((a) => a.addEventListener("click", (ev) => {
  ev.preventDefault();
  const tpl = document.querySelector(`template[data-example-yaml="${a.dataset.example}"]`);
  document.querySelectorAll("[data-example]").forEach((x) => x.classList.toggle("active", x === a));
  setText(tpl.innerHTML.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&amp;/g, "&"));
  showResult("", false);
}));

// ----- preview ------------------------------------------------------------------------------------------------------
let previewTimer = null;
function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(async () => {
    const json = await send(`/c/${slug}/apply/preview/`);
    previewList.textContent = "";
    if (json.ok) {
      for (const ch of json.changes) {
        const li = document.createElement("li");
        li.className = ch.action;
        li.textContent = ch.text;
        previewList.append(li);
      }
      if (!json.changes.length) previewList.innerHTML = '<li class="muted">Nothing to apply.</li>';
      mark(null);
    } else {
      const li = document.createElement("li");
      li.className = "error";
      li.textContent = `will fail: ${json.error}`;
      previewList.append(li);
      mark(json.line, json.error);
    }
  }, 400);
}

function hookEditor() {
  const ed = editor();
  if (ed) ed.getSession().on("change", schedulePreview);
  else textarea.addEventListener("input", schedulePreview);
  schedulePreview();
}
// django-ace creates the editor on DOMContentLoaded; modules run after parsing, so wait a tick.
setTimeout(hookEditor, 0);

// ----- mini-map ------------------------------------------------------------------------------------------------------
const mini = $("[data-minimap]");
function renderMini(model) {
  const nodes = model.ofKind("Node").sort((a, b) => a.name.localeCompare(b.name));
  const pods = model.ofKind("Pod");
  const pending = pods.filter((p) => !p.node);
  mini.innerHTML = `<div class="minimap-nodes">${nodes.map((n) => `<div class="mini-node" data-status="${n.status}"><div>${n.name} <span class="muted">${n.status}</span></div><div class="mini-pods">${
    pods.filter((p) => p.node === n.name).map((p) => `<span class="mini-pod" data-status="${p.status}" title="${p.name} ${p.status}" style="--c: var(--o${ownerIndex(appOf(p))})"></span>`).join("")
  }</div></div>`).join("")}</div>${pending.length ? `<p class="small warn">${pending.length} pending</p>` : ""}`;
}
connect(body.dataset.ws, (model) => renderMini(model));
