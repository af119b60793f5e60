// The cluster view: nodes as cards, pods as chips inside them, the scheduling queue, Deployments,
// Services and Events — rendered from the live model and animated with FLIP (transform/opacity only).
import { appOf, clockText, connect, humanDuration, ownerIndex, post, toast } from "./cluster-live.js";

const body = document.body;
const slug = body.dataset.cluster;
const $ = (sel, root = document) => root.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const reduceMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;
const projector = body.classList.contains("projector");
const controls = body.dataset.controls === "1"; // the instructor's buttons (the server checks anyway)
const myNamespace = body.dataset.namespace || ""; // a student's own namespace; others' pods are greyed

const els = {
  cp: $("[data-nodes-cp]"),
  workers: $("[data-nodes]"),
  queue: $("[data-queue]"),
  queueCount: $("[data-queue-count]"),
  queueEmpty: $("[data-queue-empty]"),
  deployments: $("[data-deployments]"),
  services: $("[data-services]"),
  events: $("[data-events]"),
  eventsFilter: $("[data-events-filter]"),
  announce: $("[data-announce]"),
  overlay: $("[data-overlay]"),
  main: $("[data-cluster-main]"),
  simTime: $("[data-sim-time]"),
  speed: $("[data-speed-display]"),
  paused: $("[data-paused-badge]"),
  conn: $("[data-conn]"),
  describe: $("[data-describe]"),
  describeBody: $("[data-describe-body]"),
};
const nodeEls = new Map(); // node name -> <article>
const podEls = new Map(); // "ns/name" -> <button>
const eventRows = new Map(); // correlator key -> <tr>
let model = null;

const GLYPH = {
  Pending: "…", ContainerCreating: "◔", PodInitializing: "◔", Running: "✓", Terminating: "⌫", Completed: "✔",
  ErrImagePull: "✕", ImagePullBackOff: "✕", InvalidImageName: "✕", ErrImageNeverPull: "✕", CrashLoopBackOff: "↻", Error: "!",
};

function animMs() {
  const speed = model ? model.clock.speed : 1;
  return speed > 10 ? 180 : 450; // above 10× animations get shorter instead of queueing
}

// ----- nodes ---------------------------------------------------------------------------------------------
function nodeEl(node) {
  let el = nodeEls.get(node.name);
  if (el) return el;
  el = document.createElement("article");
  el.className = "node";
  el.dataset.node = node.name;
  const isCp = (node.roles || "").includes("control-plane");
  el.innerHTML = `
    <header data-open="node/${esc(node.name)}" tabindex="0"><span class="node-name">${esc(node.name)}</span>
      <span class="badge" data-badge></span><span class="muted small" data-roles></span></header>
    ${isCp ? `<div class="components">
      <span class="component" data-component="apiserver">API server</span><span class="component" data-component="etcd">etcd</span>
      <span class="component" data-component="scheduler">scheduler</span><span class="component" data-component="controller-manager">controller-manager</span>
    </div>` : ""}
    <div class="agents" data-agents></div>
    <div class="taints" data-taints></div>
    <div class="bars" data-bars></div>
    <div class="pods" data-pods></div>
    <div class="countdown" data-countdown></div>
    ${!controls ? "" : `<div class="node-actions">
      <button type="button" data-node-action="fail" title="Stop the kubelet (power or network lost)">⚡ Fail</button>
      <button type="button" data-node-action="recover" title="Start the kubelet again">↺ Recover</button>
      <button type="button" data-node-action="cordon">Cordon</button>
      <button type="button" data-node-action="uncordon">Uncordon</button>
      <button type="button" data-node-action="drain">Drain</button>
      <button type="button" data-node-action="remove" title="Delete the Node object">Remove</button>
    </div>`}`;
  el.__pods = $("[data-pods]", el);
  (isCp ? els.cp : els.workers).append(el);
  nodeEls.set(node.name, el);
  return el;
}

// A capacity bar: built once per node, then only its fill (a scale, animated on the compositor)
// and its numbers change.
function bar(host, label, used, total, fmt) {
  const pct = total ? Math.min(100, (used / total) * 100) : 0;
  let b = host.__bars?.[label];
  if (!b) {
    const name = document.createElement("span");
    name.textContent = label;
    const meter = document.createElement("span");
    meter.className = "bar";
    meter.setAttribute("role", "meter");
    meter.setAttribute("aria-valuemin", "0");
    meter.setAttribute("aria-valuemax", "100");
    meter.setAttribute("aria-label", label);
    const fill = document.createElement("span");
    meter.append(fill);
    const nums = document.createElement("span");
    host.append(name, meter, nums);
    b = (host.__bars ||= {})[label] = { meter, fill, nums };
  }
  const cls = pct >= 100 ? "bar full" : pct >= 80 ? "bar high" : "bar";
  if (b.meter.className !== cls) b.meter.className = cls;
  const now = String(Math.round(pct));
  if (b.meter.getAttribute("aria-valuenow") !== now) b.meter.setAttribute("aria-valuenow", now);
  const f = (pct / 100).toFixed(3);
  if (b.fill.style.getPropertyValue("--f") !== f) b.fill.style.setProperty("--f", f);
  setText(b.nums, `${fmt(used)}/${fmt(total)}`);
}
const fmtCpu = (m) => (m % 1000 === 0 ? `${m / 1000}` : (m / 1000).toFixed(m < 1000 ? 2 : 1));
const fmtMem = (b) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)}Gi` : `${Math.round(b / 2 ** 20)}Mi`);

// Above this many pods a node draws them as small squares (as kube-ops-view does): a hundred
// labelled chips would not fit a screen or be read, and 500 moving at once cost frames. Name,
// status and node stay on each square (tooltip, data attributes) and a click describes the pod.
const DENSE_AT = 24;

function updateNode(node, podsOnNode) {
  const el = nodeEl(node);
  el.classList.toggle("dense", podsOnNode.length > DENSE_AT);
  setData(el, "status", node.status);
  setText($("[data-badge]", el), node.status);
  setText($("[data-roles]", el), node.roles === "<none>" ? "" : node.roles);
  setHTML($("[data-agents]", el), node.kubelet
    ? "kubelet · kube-proxy · containerd"
    : `<span class="down">kubelet ✕</span> · kube-proxy · containerd`);
  setHTML($("[data-taints]", el), (node.taints || [])
    .map((t) => { const text = `${esc(t.key)}${t.value ? "=" + esc(t.value) : ""}:${esc(t.effect)}`; return `<span class="taint" title="taint ${text}">${text}</span>`; })
    .join(""));
  let cpu = 0, mem = 0, n = 0;
  for (const p of podsOnNode) {
    if (p.phase === "Succeeded" || p.phase === "Failed") continue;
    cpu += p.cpu; mem += p.memory; n += 1;
  }
  const bars = el.__barsEl || (el.__barsEl = $("[data-bars]", el));
  bar(bars, "CPU", cpu, node.cpu, fmtCpu);
  bar(bars, "MEM", mem, node.memory, fmtMem);
  bar(bars, "pods", n, node.pods, String);
  el.querySelectorAll("[data-node-action]").forEach((b) => {
    const a = b.dataset.nodeAction;
    b.hidden = (a === "fail" && !node.kubelet) || (a === "recover" && node.kubelet) ||
      (a === "cordon" && node.unschedulable) || (a === "uncordon" && !node.unschedulable);
  });
}

// ----- pods ----------------------------------------------------------------------------------------------------
const POD_TEMPLATE = document.createElement("button");
POD_TEMPLATE.type = "button";
POD_TEMPLATE.className = "pod";
// The status glyph and the restart count are drawn by CSS from data attributes and the eviction
// countdown is added only while one runs: every element of a chip is layout work when 500 chips
// move at once.
POD_TEMPLATE.innerHTML = `<span class="app"></span><span class="sfx"></span><span class="containers"></span>`;

function podEl(pod) {
  const key = `${pod.namespace}/${pod.name}`;
  let el = podEls.get(key);
  if (!el) {
    el = POD_TEMPLATE.cloneNode(true); // cheaper than parsing the same HTML 500 times
    el.dataset.pod = key;
    el.dataset.open = `pod/${pod.namespace}/${pod.name}`;
    podEls.set(key, el);
  }
  const app = appOf(pod);
  const [ready, total] = pod.ready.split("/");
  const sig = [app, pod.status, pod.node, pod.ready, pod.podReady, pod.restarts, pod.ip, pod.replaces,
    pod.containers.map((c) => `${c.name}${c.state}${c.reason}${c.ready}`).join()].join("|");
  if (el.__sig === sig) return el; // nothing visible changed
  el.__sig = sig;
  // Only what differs is written: an unchanged text or attribute rewritten still costs the chip a
  // style recalculation and a relayout, times 500 pods in one delta.
  const parts = el.__parts || (el.__parts = {
    app: el.querySelector(".app"), sfx: el.querySelector(".sfx"), containers: el.querySelector(".containers"),
  });
  const colour = `var(--o${ownerIndex(app)})`;
  if (el.__colour !== colour) { el.style.setProperty("--c", colour); el.__colour = colour; }
  setData(el, "status", pod.status);
  setData(el, "podNode", pod.node || "");
  setData(el, "replaces", pod.replaces || "");
  el.classList.toggle("notready", pod.status === "Running" && !pod.podReady);
  el.classList.toggle("others", Boolean(myNamespace) && pod.namespace !== myNamespace);
  el.classList.toggle("node-lost", pod.status === "Running" && !pod.podReady && ready === total);
  setText(parts.app, app);
  setText(parts.sfx, "·" + pod.name.slice(pod.name.lastIndexOf("-") + 1));
  setData(el, "glyph", GLYPH[pod.status] ?? "•");
  const ctrs = pod.containers.map((c) => `<i class="ctr${c.ready ? "" : " notready"}" title="${esc(c.name)}: ${esc(c.state)}${c.reason ? " " + esc(c.reason) : ""}"></i>`).join("");
  setHTML(parts.containers, ctrs);
  setData(el, "restarts", pod.restarts ? `↻${pod.restarts}` : "");
  const title = `${pod.name}\n${pod.ready} ${pod.status}${pod.restarts ? ` · ${pod.restarts} restarts` : ""}${pod.node ? " · " + pod.node : ""}${pod.ip ? " · " + pod.ip : ""}${pod.replaces ? `\nreplaces ${pod.replaces}` : ""}`;
  if (el.title !== title) el.title = title;
  const label = `pod ${pod.name}, ${pod.status}, ready ${pod.ready}`;
  if (el.getAttribute("aria-label") !== label) el.setAttribute("aria-label", label);
  return el;
}

// The scheduling queue: pending pods grouped by why they wait (thirty students' pods that all wait
// for the same "0/4 nodes are available: …" are one line, not thirty), in a scrolling box.
const queueGroups = new Map(); // reason -> {row, slot}
const queued = new Map(); // "ns/name" -> reason

function queueItem(pod, el) {
  const key = `${pod.namespace}/${pod.name}`;
  const why = pod.pending ? pod.pending : "waiting for the scheduler";
  let group = queueGroups.get(why);
  if (!group) {
    const row = document.createElement("div");
    row.className = "queue-item";
    row.innerHTML = `<span class="why"></span><span class="slot"></span>`;
    $(".why", row).textContent = why;
    group = { row, slot: $(".slot", row) };
    queueGroups.set(why, group);
    els.queue.append(row);
  }
  queued.set(key, why);
  if (el.parentElement !== group.slot) group.slot.append(el);
}

function dropQueueItem(key) {
  queued.delete(key);
}

// Groups left empty once a batch of pods has moved out of them.
function sweepQueue() {
  for (const [why, g] of queueGroups) {
    if (!g.slot.firstElementChild) { g.row.remove(); queueGroups.delete(why); }
  }
  for (const g of queueGroups.values()) {
    const n = g.slot.childElementCount;
    g.row.classList.toggle("dense", n > DENSE_AT);
    const why = g.row.firstElementChild;
    const count = n > 1 ? `${n} pods: ` : "";
    if (why.dataset.count !== count) why.dataset.count = count;
  }
  els.queueCount.textContent = String(queued.size);
  els.queueEmpty.hidden = queued.size > 0;
}

function flip(el, first, delay, last = el.getBoundingClientRect()) {
  if (reduceMotion || !first) return;
  const dx = first.left - last.left, dy = first.top - last.top;
  if (Math.abs(dx) < 1 && Math.abs(dy) < 1) return;
  play(el, [{ transform: `translate(${dx}px, ${dy}px)` }, { transform: "none" }],
    { duration: animMs(), delay, easing: "cubic-bezier(.2,.7,.2,1)", fill: "backwards" });
}

// One motion per pod at a time: a new one replaces the running one. (Element.getAnimations()
// would do, but it flushes style on every call: half a second for 500 pods.)
function play(el, keyframes, options) {
  if (el.__anim) el.__anim.cancel();
  el.__anim = el.animate(keyframes, options);
  return el.__anim;
}

function appear(el, delay) {
  if (reduceMotion) { highlight(el); return; }
  play(el, [{ opacity: 0, transform: "scale(.6)" }, { opacity: 1, transform: "none" }],
    { duration: animMs(), delay, easing: "ease-out", fill: "backwards" });
}

function highlight(el) {
  el.classList.add("highlight");
  setTimeout(() => el.classList.remove("highlight"), 700);
}

let leaving = 0; // exit animations started in the current render

function disappear(el, key) {
  podEls.delete(key);
  dropQueueItem(key);
  if (reduceMotion || ++leaving > 200) { el.remove(); return; }
  el.dataset.pod = ""; // no longer part of the cluster
  play(el, [{ opacity: 0.8 }, { opacity: 0, transform: "scale(.5)" }], { duration: animMs(), easing: "ease-in" }).finished
    .then(() => el.remove(), () => el.remove());
}

// ----- render -----------------------------------------------------------------------------------------------------
// Deltas arriving within one frame are merged and rendered once; only what changed is touched.
let pending = null;
let animated = 0; // pods animated in the current render (beyond MAX_ANIMATED the rest simply appear)
const MAX_ANIMATED = 200;

function onChange(m, change) {
  model = m;
  if (!pending) {
    pending = { snapshot: false, keys: new Set(), removed: [], events: [], activity: new Set(), binds: [] };
    requestAnimationFrame(() => {
      const c = pending;
      pending = null;
      const t0 = performance.now();
      render(m, c);
      const took = performance.now() - t0;
      (window.__kubelabRenders ||= []).push([took, c.keys.size]);
      if (window.__kubelabRenders.length > 100) window.__kubelabRenders.shift();
    });
  }
  if (change.snapshot) pending.snapshot = true;
  if (change.traffic) pending.traffic = change.traffic;
  for (const o of change.upserts) pending.keys.add(o.key);
  for (const k of change.deletes) pending.keys.add(k);
  pending.events.push(...change.events);
  for (const a of change.activity || []) pending.activity.add(a);
  pending.binds.push(...(change.binds || []));
}

function render(m, change) {
  const changedKinds = new Set([...change.keys].map((k) => k.split("/")[0]));
  // worker-2 before worker-10 (as people count), the control plane first.
  const nodes = m.ofKind("Node").sort((a, b) => (b.roles.includes("control-plane") - a.roles.includes("control-plane")) || a.name.localeCompare(b.name, undefined, { numeric: true }));
  const allPods = m.ofKind("Pod");
  const byNode = new Map(nodes.map((n) => [n.name, []]));
  for (const p of allPods) if (p.node && byNode.has(p.node)) byNode.get(p.node).push(p);

  // Nodes: the changed ones and those whose pods changed
  const touchedNodes = new Set();
  for (const k of change.keys) if (k.startsWith("Node/")) touchedNodes.add(k.slice(5));
  for (const k of change.keys) {
    if (!k.startsWith("Pod/")) continue;
    const p = m.objects.get(k);
    if (p && p.node) touchedNodes.add(p.node);
    const el = podEls.get(k.slice(4));
    if (el && el.dataset.podNode) touchedNodes.add(el.dataset.podNode);
  }
  const workers = nodes.filter((n) => !n.roles.includes("control-plane")).length;
  const writeNodes = () => {
    els.workers.classList.toggle("many", workers > 6); // a classroom's 20 nodes: narrower cards
    for (const [name, el] of nodeEls) if (!byNode.has(name)) { el.remove(); nodeEls.delete(name); }
    const added = nodes.some((n) => !nodeEls.has(n.name));
    for (const n of nodes) if (change.snapshot || touchedNodes.has(n.name) || !nodeEls.has(n.name)) updateNode(n, byNode.get(n.name));
    if (added) for (const n of nodes) { const el = nodeEls.get(n.name); el.parentElement.append(el); } // a new node takes its place in the order
  };

  // Pods: queue the changed ones (oldest first, so chips keep their creation order in a node)
  const keys = change.snapshot
    ? [...new Set([...allPods.map((p) => `${p.namespace}/${p.name}`), ...podEls.keys()])]
    : [...change.keys].filter((k) => k.startsWith("Pod/")).map((k) => k.slice(4));
  const created = (k) => m.objects.get(`Pod/${k}`)?.created ?? Infinity;
  keys.sort((a, b) => created(a) - created(b) || a.localeCompare(b));
  const bound = new Set(change.binds.map((b) => b.pod)); // these fly from the queue to their node
  placePods(m, keys, bound, !change.snapshot && !reduceMotion, writeNodes);

  if (change.snapshot || changedKinds.has("Deployment") || changedKinds.has("ReplicaSet") || changedKinds.has("HorizontalPodAutoscaler")) renderDeployments(m);
  const servicesDrawn = change.snapshot || changedKinds.has("Service") || changedKinds.has("Ingress");
  if (servicesDrawn) renderServices(m);
  if (servicesDrawn || change.traffic) renderTraffic(m, change.traffic); // a redrawn list gets its figures back at once
  renderEvents(m, change);
  flashActivity([...change.activity]);
  drawBinds(change.binds);
  tickClock();
}

// Measure, then write, then measure once more and animate: two layouts for any number of pods.
// (Spreading a burst over several frames was tried and measured: every frame that changes the
// page repaints it, so 500 pods in four frames cost more frames than 500 in one.)
function placePods(m, batch, bound, animate, writeFirst) {
  const from = animate ? measure(m, batch) : null; // read while the layout is still clean
  writeFirst();
  placeBatch(m, batch, bound, from);
  sweepQueue();
  animated = 0;
  leaving = 0;
}

// FLIP, step 1: where the pods that are about to move are now, before anything is written (so the
// browser answers from the layout it already has). Only as many as will be animated.
function measure(m, batch) {
  const first = new Map();
  let room = MAX_ANIMATED - animated;
  for (const key of batch) {
    if (room <= 0) break;
    const p = m.objects.get(`Pod/${key}`);
    const el = podEls.get(key);
    if (!p || !el || !el.isConnected || (el.dataset.podNode || "") === (p.node || "")) continue;
    first.set(key, el.getBoundingClientRect());
    room -= 1;
  }
  return { first, queue: els.queue.getBoundingClientRect() };
}

function placeBatch(m, batch, bound, from) {
  // Place each in its node, or in the scheduling queue.
  const plays = [];
  for (const key of batch) {
    const p = m.objects.get(`Pod/${key}`);
    if (!p) {
      const gone = podEls.get(key);
      if (gone) disappear(gone, key);
      continue;
    }
    const isNew = !podEls.has(key);
    const el = podEl(p);
    const target = p.node && nodeEls.has(p.node) ? nodeEls.get(p.node).__pods : null;
    let moved = false;
    if (target) {
      dropQueueItem(key);
      if (el.parentElement !== target) { target.append(el); moved = !isNew; }
    } else {
      queueItem(p, el);
    }
    const flew = bound.has(key) && Boolean(target);
    if (!from || animated >= MAX_ANIMATED) continue;
    if (moved && from.first.has(key)) plays.push([el, from.first.get(key)]);
    else if (isNew) plays.push([el, flew ? { left: from.queue.left + 8, top: from.queue.top + 8 } : null]);
    else continue;
    animated += 1;
  }

  // FLIP, step 2: read every final position (one layout), then start every animation.
  const lasts = plays.map(([el, first]) => (first ? el.getBoundingClientRect() : null));
  const stagger = Math.min(25, 600 / Math.max(plays.length, 1));
  plays.forEach(([el, first], i) => (first ? flip(el, first, i * stagger, lasts[i]) : appear(el, i * stagger)));
}

// ----- traffic -------------------------------------------------------------------------------------------------------
const errorTotals = new Map(); // "ns/service" -> errors seen since the page loaded (data-traffic-errors)

function hpaLine(hpas, d) {
  const h = hpas.get(`${d.namespace}/Deployment/${d.name}`);
  if (!h) return "";
  const able = h.conditions.find((c) => c.type === "AbleToScale");
  const limited = h.conditions.find((c) => c.type === "ScalingLimited" && c.status === "True");
  return `<div class="hpa" data-hpa="${esc(h.namespace)}/${esc(h.name)}" title="${esc(able ? able.message : "")}">HPA <span class="mono">${esc(h.targets)}</span> · ${h.minReplicas ?? 1}–${h.maxReplicas} pods · ${h.currentReplicas} → ${h.desiredReplicas}${able ? ` · <span class="muted">${esc(able.reason)}</span>` : ""}${limited ? ` · <span class="muted">${esc(limited.reason)}</span>` : ""}</div>`;
}

function spark(points, idx, max) {
  if (!points.length) return "";
  const step = 120 / Math.max(points.length - 1, 1);
  return points.map((p, i) => `${(i * step).toFixed(1)},${(24 - (p[idx] / max) * 22).toFixed(1)}`).join(" ");
}

function renderTraffic(m, now) {
  for (const el of els.services.querySelectorAll("[data-traffic]")) {
    const key = el.dataset.traffic;
    const t = m.traffic[key];
    if (!t) continue;
    el.hidden = false;
    if (now && now[key]) errorTotals.set(key, (errorTotals.get(key) || 0) + t.errors);
    el.dataset.trafficErrors = String(Math.round(errorTotals.get(key) || 0));
    el.dataset.trafficRps = String(Math.round(t.rps));
    const why = t.refused ? " (connection refused: no ready endpoints)" : key.startsWith("ingress:") && !t.backend ? (t.unclaimed ? " (404: no controller serves this Ingress)" : " (404: no rule matches)") : "";
    const ms = (v) => (v == null || !t.rps ? "–" : String(Math.round(v))); // nothing served: no latency
    $("[data-traffic-text]", el).textContent = `${Math.round(t.rps)} req/s ok · ${Math.round(t.errors)} errors/s${why} · p50/p95/p99 ${ms(t.p50)}/${ms(t.p95)}/${ms(t.p99)} ms`;
    el.classList.toggle("failing", t.errors > 0);
    const series = m.series[key] || [];
    const max = Math.max(1, ...series.map((p) => p[1] + p[2]));
    el.querySelector("polyline.ok").setAttribute("points", spark(series, 1, max));
    el.querySelector("polyline.err").setAttribute("points", spark(series, 2, max));
    const slowest = Math.max(1, ...series.map((p) => p[3]));
    el.querySelector("polyline.lat").setAttribute("points", spark(series, 3, slowest));
    el.querySelector("polyline.lat").dataset.max = String(slowest);
    if (now && now[key] && !reduceMotion && !document.hidden) dots(key, t);
  }
}

// Requests as dots: Service → the pod kube-proxy chose, green when served, red when refused.
// Thinned to at most 12 a second per Service, in proportion to the split, so it stays smooth.
// A pod that calls another tier (todo-ui → todo-api → todo-db) sends a dot on to that Service,
// which hands it to one of its own pods: the class sees a request hop from tier to tier.
function trafficRow(key) {
  return els.services.querySelector(`[data-traffic="${CSS.escape(key)}"]`);
}

function fly(a, b, ok, delay, onArrive, hopTo = "") {
  const dot = document.createElement("i");
  dot.className = `req-dot${ok ? "" : " failed"}`;
  if (hopTo) dot.dataset.hop = hopTo; // a call from one tier to the next
  dot.style.left = `${a.left + 10}px`;
  dot.style.top = `${a.top + 6}px`;
  document.body.append(dot);
  const anim = dot.animate([
    { transform: "translate(0, 0)", opacity: 0.9 },
    { transform: `translate(${b.left + (b.width || 0) / 2 - a.left - 10}px, ${b.top + (b.height || 0) / 2 - a.top - 6}px)`, opacity: ok ? 0.9 : 0 },
  ], { duration: 700, delay, easing: "ease-in-out", fill: "both" });
  anim.finished.then(() => { dot.remove(); if (ok) onArrive?.(); }, () => dot.remove());
}

const missed = (from) => ({ left: from.left + 40, top: from.top - 30, width: 0, height: 0 }); // a failure fades out near its start

function pickPod(t) {
  const total = t.rps + t.errors;
  let r = Math.random() * total;
  for (const [pod, n] of Object.entries(t.split || {})) { if ((r -= n) < 0) return pod; }
  return null; // a failed request (refused, overloaded)
}

function dots(key, t) {
  const from = trafficRow(key);
  if (!from) return;
  const a = from.getBoundingClientRect();
  const total = t.rps + t.errors;
  if (!total) return;
  const budget = Math.min(12, Math.ceil(total));
  if (key.startsWith("ingress:")) {
    // Client → the ingress controller → the Service its rules chose (or the controller's 404).
    const ns = key.slice(8).split("/")[0];
    const row = t.backend ? trafficRow(`${ns}/${t.backend}`) : null;
    const entry = t.backend ? els.services.querySelector(`[data-open="service/${CSS.escape(ns)}/${CSS.escape(t.backend)}"]`) : null;
    const to = row && !row.hidden ? row : entry;
    for (let i = 0; i < budget; i++) {
      const ok = Math.random() * total >= t.errors;
      if (ok && !to) continue; // routed to a Service not listed here: nothing to draw, nothing failed
      fly(a, ok ? to.getBoundingClientRect() : missed(a), ok, (i * 1000) / budget, null, ok ? `${ns}/${t.backend}` : "");
    }
    return;
  }
  const ns = key.split("/")[0];
  for (let i = 0; i < budget; i++) {
    const pod = pickPod(t);
    const target = pod ? podEls.get(`${ns}/${pod}`) : null;
    const b = target ? target.getBoundingClientRect() : missed(a);
    fly(a, b, Boolean(target), (i * 1000) / budget, () => hop(target, t.calls));
  }
}

// A pod's onward call: from the pod to each Service it calls (coloured by how that tier is doing).
function hop(podEl, calls) {
  if (!calls || !calls.length || !podEl || !podEl.isConnected || !model) return;
  const a = podEl.getBoundingClientRect();
  for (const callee of calls) {
    const row = trafficRow(callee);
    const t = model.traffic[callee];
    if (!row || !t || row.hidden) continue;
    const ok = Math.random() * (t.rps + t.errors || 1) >= t.errors;
    fly(a, row.getBoundingClientRect(), ok, 0, null, callee);
  }
}

// ----- deployments and services -------------------------------------------------------------------------------------
const MAX_LISTED = 60;
// The student's own namespace first, then default, then the others by name.
const classOrder = (a, b) => rank(a) - rank(b) || (a.namespace + "/" + a.name).localeCompare(b.namespace + "/" + b.name);
const rank = (o) => (o.namespace === myNamespace ? 0 : o.namespace === "default" ? 1 : 2);
const nsPrefix = (ns) => (ns && ns !== "default" ? `<span class="ns">${esc(ns)}/</span>` : "");
function renderDeployments(m) {
  const rss = m.ofKind("ReplicaSet");
  const all = m.ofKind("Deployment").sort(classOrder);
  // A student sees their own Deployments; a classroom of them is summed up, not listed (the
  // roster on the dashboard lists everyone's).
  const shown = myNamespace ? all.filter((d) => d.namespace === myNamespace) : all.slice(0, MAX_LISTED);
  const hidden = all.length - shown.length;
  const hpas = new Map(m.ofKind("HorizontalPodAutoscaler").map((h) => [`${h.namespace}/${h.target}`, h])); // once, not per Deployment
  const html = shown.map((d) => {
    const mine = rss.filter((r) => r.owner && r.owner.uid === d.uid && (r.desired > 0 || r.current > 0))
      .sort((a, b) => b.revision - a.revision);
    const newest = mine[0];
    const oi = ownerIndex(d.name);
    const bars = mine.map((r) => {
      const scale = Math.max(d.replicas + d.maxSurge, 1);
      return `<div class="rsbar ${r === newest ? "new" : "old"}" style="--c: var(--o${oi})">
        <span title="${esc(r.name)}">${r === newest ? "new" : "old"} ${esc(r.hash)}</span>
        <span class="track"><span class="avail" style="width:${(r.available / scale) * 100}%"></span><span class="unavail" style="width:${(Math.max(r.current - r.available, 0) / scale) * 100}%"></span></span>
        <span>${r.available}/${r.desired} rev ${r.revision}</span></div>`;
    }).join("");
    const total = mine.reduce((s, r) => s + r.current, 0);
    const rolling = mine.length > 1 || d.updated < d.replicas;
    const budget = rolling && d.strategy === "RollingUpdate"
      ? `<div class="budget">surge ${Math.max(total - d.replicas, 0)}/${d.maxSurge} used · unavailable ${Math.max(d.replicas - d.available, 0)}/${d.maxUnavailable} allowed</div>` : "";
    const conds = d.conditions.map((c) => `<span class="cond ${c.status}" title="${esc(c.message)}">${c.type}=${c.status} ${esc(c.reason || "")}</span>`).join(" · ");
    return `<div class="dep" data-open="deployment/${esc(d.namespace)}/${esc(d.name)}" data-deployment="${esc(d.namespace)}/${esc(d.name)}" tabindex="0">
      <div class="row"><span class="swatch" style="background: var(--o${oi})"></span><span class="name">${nsPrefix(d.namespace)}${esc(d.name)}</span>
      <span title="READY">${d.ready}/${d.replicas}</span><span title="UP-TO-DATE">up-to-date ${d.updated}</span><span title="AVAILABLE">available ${d.available}</span>
      <span class="muted">rev ${d.revision}${d.paused ? " · paused" : ""}</span></div>
      <div class="rsbars">${bars}</div>${budget}<div>${conds}</div>${hpaLine(hpas, d)}</div>`;
  }).join("");
  const more = hidden > 0 ? `<p class="muted small">${myNamespace ? "and" : "…and"} ${hidden} more Deployment${hidden === 1 ? "" : "s"} ${myNamespace ? "of the class" : "(the dashboard's roster lists everyone's)"}</p>` : "";
  els.deployments.innerHTML = (html || `<p class="muted empty-note">No Deployments${myNamespace ? " of yours" : ""}. Open the editor and apply one.</p>`) + more;
}

function renderServices(m) {
  const all = m.ofKind("Service").sort(classOrder);
  const shown = all.filter((s) => !myNamespace || s.namespace === myNamespace || s.namespace === "default").slice(0, MAX_LISTED);
  const html = shown.map((s) => {
    const ports = s.ports.map((p) => `${p.port}${p.nodePort ? ":" + p.nodePort : ""}/${p.protocol || "TCP"}`).join(",");
    const sel = Object.entries(s.selector).map(([k, v]) => `${k}=${v}`).join(",");
    // Like kubectl's ENDPOINTS column: the first three, then "+ N more...".
    const eps = s.endpoints.length ? s.endpoints.slice(0, 3).join(", ") + (s.endpoints.length > 3 ? ` + ${s.endpoints.length - 3} more...` : "") : "<none>";
    return `<div class="svc" data-open="service/${esc(s.namespace)}/${esc(s.name)}" tabindex="0">
      <strong class="mono">${nsPrefix(s.namespace)}${esc(s.name)}</strong> <span class="muted">${esc(s.type)} ${esc(s.clusterIP)} ${esc(ports)}</span>
      <div class="muted small">selector ${esc(sel || "<none>")}</div>
      <div class="eps ${s.endpoints.length ? "" : "none"}">endpoints: ${esc(eps)}${s.notReady.length ? ` <span class="muted">(not ready: ${esc(s.notReady.slice(0, 3).join(", "))}${s.notReady.length > 3 ? ` + ${s.notReady.length - 3} more...` : ""})</span>` : ""}</div>
      <div class="traffic" data-traffic="${esc(s.namespace)}/${esc(s.name)}" ${s.load ? "" : "hidden"}><span data-traffic-text></span><svg class="spark" viewBox="0 0 120 24" preserveAspectRatio="none" aria-hidden="true"><title>last two minutes: requests served (green), errors (red), p95 latency (dashed)</title><polyline class="ok"/><polyline class="err"/><polyline class="lat"/></svg></div>
      ${controls ? `<form class="load-form" data-action-form action="/c/${esc(slug)}/services/${esc(s.namespace)}/${esc(s.name)}/load/" method="post"><label>clients <input name="rps" type="number" min="0" max="100000" step="10" value="${s.load ? s.load.rps : 0}" size="5"> req/s</label><button type="submit">Set</button></form>` : ""}</div>`;
  }).join("");
  const more = all.length - shown.length;
  // The ingress controller at the cluster's edge, with each Ingress's routes.
  const ingresses = m.ofKind("Ingress").sort(classOrder).filter((g) => !myNamespace || g.namespace === myNamespace || g.namespace === "default").map((g) => `<div class="svc ingress" data-open="ingress/${esc(g.namespace)}/${esc(g.name)}" tabindex="0">
      <strong class="mono">${nsPrefix(g.namespace)}${esc(g.name)}</strong> <span class="muted">Ingress · class ${esc(g.className || "<none>")}${g.address ? "" : " · no address yet"}</span>
      ${g.claimed ? "" : `<div class="unclaimed small">No controller here serves ${g.className ? `class ${esc(g.className)}` : "an Ingress without a class"}: ingress-nginx takes <span class="mono">ingressClassName: nginx</span>. Its clients get 404.</div>`}
      <div class="muted small">${g.routes.map((r) => `${esc(r.host)}${esc(r.path)} → ${esc(r.service)}`).join(" · ")}</div>
      <div class="traffic" data-traffic="ingress:${esc(g.namespace)}/${esc(g.name)}" ${g.load ? "" : "hidden"}><span data-traffic-text></span><svg class="spark" viewBox="0 0 120 24" preserveAspectRatio="none" aria-hidden="true"><title>last two minutes: requests served (green), errors (red), p95 latency (dashed)</title><polyline class="ok"/><polyline class="err"/><polyline class="lat"/></svg></div>
      ${controls ? `<form class="load-form" data-action-form action="/c/${esc(slug)}/ingresses/${esc(g.namespace)}/${esc(g.name)}/load/" method="post"><label>clients <input name="rps" type="number" min="0" max="100000" step="10" value="${g.load ? g.load.rps : 0}" size="5"> req/s</label>
        to <select name="host" aria-label="host">${[...new Set(g.routes.map((r) => r.host))].map((h) => `<option value="${h === "*" ? "" : esc(h)}"${g.load && (g.load.host || "*") === h ? " selected" : ""}>${esc(h)}</option>`).join("")}</select>
        <input name="path" value="${esc(g.load ? g.load.path || "/" : "/")}" size="8" aria-label="path"><button type="submit">Set</button></form>` : ""}</div>`).join("");
  // One ingress controller serves every Ingress (ingress-nginx behind its LoadBalancer address).
  const edgeIp = m.ofKind("Ingress").map((g) => g.address).find(Boolean) || "<pending>";
  const edge = ingresses ? `<div class="edge" data-edge aria-label="ingress controller">
      <div class="edge-head" title="Clients outside the cluster come in here; the controller routes each request by the Ingress rules"><strong>⇄ Ingress controller</strong><span class="muted mono">ingress-nginx ${esc(edgeIp)}</span></div>${ingresses}</div>` : "";
  els.services.innerHTML = edge + (html || `<p class="muted empty-note">No Services.</p>`) + (more > 0 ? `<p class="muted small">…and ${more} more</p>` : "");
}

// ----- events ------------------------------------------------------------------------------------------------------------
const evKey = (e) => `${e.object}|${e.reason}|${e.message}|${e.source}`;

function eventRow(e, fresh) {
  const key = evKey(e);
  let tr = eventRows.get(key);
  if (!tr) {
    tr = document.createElement("tr");
    eventRows.set(key, tr);
  }
  tr.className = e.type + (fresh ? " fresh" : "");
  tr.dataset.last = e.last;
  tr.innerHTML = `<td data-ago></td><td>${esc(e.type)}</td><td>${esc(e.reason)}</td><td>${esc(e.object)}</td><td>${esc(e.message)}</td>`;
  tr.title = `${e.source}${e.count > 1 ? ` · seen ${e.count} times` : ""}`;
  return tr;
}

function renderEvents(m, change) {
  if (change.snapshot) {
    els.events.textContent = "";
    eventRows.clear();
    const recent = m.events.slice(-200).reverse();
    els.events.append(...recent.map((e) => eventRow(e, false)));
  } else {
    const fresh = change.events.slice(-200).map((e) => eventRow(e, true));
    for (const tr of fresh) els.events.prepend(tr);
    if (fresh.length) setTimeout(() => fresh.forEach((tr) => tr.classList.remove("fresh")), 1500);
    while (els.events.children.length > 200) {
      const last = els.events.lastElementChild;
      eventRows.forEach((v, k) => { if (v === last) eventRows.delete(k); });
      last.remove();
    }
    const warn = change.events.filter((e) => e.type === "Warning").slice(-1)[0] || change.events.slice(-1)[0];
    if (warn) els.announce.textContent = `${warn.type} ${warn.reason} ${warn.object}: ${warn.message}`;
  }
  applyEventFilter();
  updateAgo();
}

function applyEventFilter() {
  const q = (els.eventsFilter?.value || "").toLowerCase();
  for (const tr of els.events.children) tr.hidden = q !== "" && !tr.textContent.toLowerCase().includes(q);
}

function updateAgo() {
  if (!model) return;
  const now = model.simNow();
  // Only the cells whose text changes are written (an unchanged write still relays the table out).
  for (const tr of els.events.children) setText(tr.firstElementChild, humanDuration(now - Number(tr.dataset.last)));
}

// ----- control-plane activity ----------------------------------------------------------------------------------------
function flashActivity(activity) {
  for (const a of activity) {
    const names = a === "apiserver" ? ["apiserver", "etcd"] : [a];
    for (const n of names) {
      // An overlay fading out (opacity runs on the compositor; no layout is forced to restart it).
      document.querySelectorAll(`[data-component="${n}"]`).forEach((c) => {
        c.dataset.flashed = String(Date.now()); // a hook for tests: when it last acted
        if (!reduceMotion) play(c, [{ opacity: 1 }, { opacity: 0 }], { duration: 600, easing: "ease-out", pseudoElement: "::after" });
        else { c.classList.add("flash"); setTimeout(() => c.classList.remove("flash"), 500); }
      });
    }
  }
}

function drawBinds(binds) {
  if (reduceMotion || !binds.length || !els.overlay) return;
  const sched = document.querySelector('[data-component="scheduler"]');
  if (!sched) return;
  const base = els.main.getBoundingClientRect();
  const s = sched.getBoundingClientRect();
  const seen = new Set();
  for (const b of binds.slice(0, 30)) {
    if (seen.has(b.node)) continue;
    seen.add(b.node);
    const n = nodeEls.get(b.node);
    if (!n) continue;
    const r = n.getBoundingClientRect();
    const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
    line.setAttribute("x1", s.left + s.width / 2 - base.left);
    line.setAttribute("y1", s.top + s.height / 2 - base.top);
    line.setAttribute("x2", r.left + r.width / 2 - base.left);
    line.setAttribute("y2", r.top + 20 - base.top);
    els.overlay.append(line);
    line.animate([{ opacity: 1 }, { opacity: 0 }], { duration: 900, easing: "ease-in" }).finished.then(() => line.remove(), () => line.remove());
  }
}

// ----- the clock and countdowns ----------------------------------------------------------------------------------------
const countdown = (secs) => {
  const s = Math.max(0, Math.ceil(secs));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

function tickClock() {
  if (!model) return;
  const now = model.simNow();
  els.simTime.textContent = clockText(now);
  els.speed.textContent = `${model.clock.speed}×`;
  els.paused.hidden = !model.clock.paused;
  const pauseBtn = $('[data-clock="pause"]'), resumeBtn = $('[data-clock="resume"]');
  if (pauseBtn) { pauseBtn.hidden = model.clock.paused; resumeBtn.hidden = !model.clock.paused; }
  const sel = $("[data-clock-speed]");
  if (sel && document.activeElement !== sel) sel.value = String(model.clock.speed);
  const perNode = new Map();
  const podLabels = new Map();
  for (const t of model.timers) {
    const left = t.at - now;
    if (t.obj.startsWith("node/")) {
      const name = t.obj.slice(5);
      const node = model.objects.get(`Node/${name}`);
      const silent = node && node.kubeletStopped != null ? ` (no heartbeat for ${Math.floor(now - node.kubeletStopped)}s)` : "";
      perNode.set(name, [`${t.label} ${countdown(left)}${silent}`]);
    } else if (t.obj.startsWith("pod/")) {
      const key = t.obj.slice(4);
      if (podEls.has(key)) podLabels.set(key, `evict ${countdown(left)}`);
      const pod = model.objects.get(`Pod/${key}`);
      if (pod && pod.node) {
        const list = perNode.get(pod.node) || [];
        if (!list.some((x) => x.startsWith("pods evicted"))) list.push(`pods evicted in ${countdown(left)}`);
        perNode.set(pod.node, list);
      }
    }
  }
  for (const [name, el] of nodeEls) setText($("[data-countdown]", el), (perNode.get(name) || []).join(" · "));
  for (const key of new Set([...evictShown, ...podLabels.keys()])) {
    const el = podEls.get(key);
    if (el) evictLabel(el, podLabels.get(key) || "");
  }
  evictShown = new Set(podLabels.keys());
}

let evictShown = new Set();

function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

// The countdown to a pod's eviction, shown only while it runs.
function evictLabel(pod, text) {
  let label = pod.querySelector("[data-evict]");
  if (!text) { label?.remove(); return; }
  if (!label) {
    label = document.createElement("span");
    label.className = "evict";
    label.dataset.evict = "";
    pod.insertBefore(label, pod.querySelector(".containers"));
  }
  setText(label, text);
}

function setHTML(el, html) {
  if (el.__html !== html) { el.innerHTML = html; el.__html = html; }
}

function setData(el, key, value) {
  if (el.dataset[key] !== value) el.dataset[key] = value;
}
setInterval(tickClock, 250);
setInterval(updateAgo, 1000);

// ----- controls ----------------------------------------------------------------------------------------------------------
function openDescribe(path) {
  const parts = path.split("/");
  // An anonymised classroom shows a student's own namespace by its pseudonym; ask by the real name.
  if (parts.length === 3 && myNamespace && parts[1] === myNamespace) parts[1] = body.dataset.realNamespace;
  const url = `/c/${slug}/describe/${parts.map(encodeURIComponent).join("/")}/`;
  els.describe.hidden = false;
  if (window.htmx) window.htmx.ajax("GET", url, { target: "#describe-body", swap: "innerHTML" });
  else fetch(url).then((r) => r.text()).then((html) => { els.describeBody.innerHTML = html; });
}

document.addEventListener("click", async (ev) => {
  const action = ev.target.closest("[data-node-action]");
  if (action) {
    const node = action.closest("[data-node]").dataset.node;
    const verb = action.dataset.nodeAction;
    if ((verb === "remove" || verb === "drain") && !confirm(`${verb} ${node}?`)) return;
    action.disabled = true;
    const res = await post(`/c/${slug}/nodes/${encodeURIComponent(node)}/${verb}/`);
    action.disabled = false;
    toast(res.output, !res.ok);
    return;
  }
  const clockBtn = ev.target.closest("[data-clock]");
  if (clockBtn) {
    const res = await post(`/c/${slug}/clock/${clockBtn.dataset.clock}/`);
    if (!res.ok) toast(res.output, true);
    return;
  }
  if (ev.target.closest("[data-describe-close]")) { els.describe.hidden = true; return; }
  if (ev.target.closest(".load-form")) return; // typing a load is not asking for `describe`
  const open = ev.target.closest("[data-open]");
  if (open) openDescribe(open.dataset.open);
});

document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && !els.describe.hidden) els.describe.hidden = true;
  if (ev.key === "Enter" && ev.target.matches?.("[data-open]:not(button)")) openDescribe(ev.target.dataset.open);
});

document.addEventListener("submit", async (ev) => {
  const form = ev.target.closest("[data-action-form]");
  if (!form) return;
  ev.preventDefault();
  if (form.dataset.confirm && !confirm(form.dataset.confirm)) return;
  const res = await post(form.action, Object.fromEntries(new FormData(form)));
  toast(res.output, !res.ok);
  if (res.ok && form.closest(".describe")) els.describe.hidden = true;
});

$("[data-clock-speed]")?.addEventListener("change", async (ev) => {
  const res = await post(`/c/${slug}/clock/speed/`, { speed: ev.target.value });
  if (!res.ok) toast(res.output, true);
});
els.eventsFilter?.addEventListener("input", applyEventFilter);

const banner = $("[data-announcement]");
document.addEventListener("kubelab:announce", (ev) => {
  if (!banner) return;
  banner.hidden = !ev.detail;
  $("[data-announcement-text]", banner).textContent = ev.detail;
  els.announce.textContent = ev.detail ? `Instructor: ${ev.detail}` : "";
});

function status(s) {
  els.conn.textContent = s === "live" ? "● live" : s === "down" ? "● reconnecting" : s === "gone" ? "● closed by the classroom" : "connecting…";
  els.conn.className = `conn ${s}`;
}

// ----- console -------------------------------------------------------------------------------------------------------------
const consoleEl = $("[data-console]");
if (consoleEl) {
  const out = $("[data-console-out]"), input = $("[data-console-input]");
  const history = JSON.parse(localStorage.getItem("kubelab-history") || "[]");
  let pos = history.length;
  $("[data-open-console]")?.addEventListener("click", () => { consoleEl.hidden = !consoleEl.hidden; if (!consoleEl.hidden) input.focus(); });
  $("[data-console-close]").addEventListener("click", () => { consoleEl.hidden = true; });
  $("[data-console-form]").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const command = input.value.trim();
    if (!command) return;
    history.push(command);
    localStorage.setItem("kubelab-history", JSON.stringify(history.slice(-100)));
    pos = history.length;
    input.value = "";
    const cmd = document.createElement("div");
    cmd.className = "cmd";
    cmd.textContent = `$ kubectl ${command}`;
    out.append(cmd);
    const res = await fetch(`/c/${slug}/console/`, {
      method: "POST",
      headers: { "X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value, Accept: "application/json" },
      body: new URLSearchParams({ command: command.replace(/^kubectl\s+/, "") }),
    }).then((r) => r.json()).catch(() => ({ code: 1, out: "", err: "error: the server did not answer" }));
    if (res.out) { const o = document.createElement("div"); o.textContent = res.out.replace(/\n$/, ""); out.append(o); }
    if (res.err) { const e = document.createElement("div"); e.className = "err"; e.textContent = res.err.replace(/\n$/, ""); out.append(e); }
    out.scrollTop = out.scrollHeight;
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowUp" && pos > 0) { input.value = history[--pos]; ev.preventDefault(); }
    if (ev.key === "ArrowDown") { pos = Math.min(pos + 1, history.length); input.value = history[pos] || ""; ev.preventDefault(); }
  });
}

connect(body.dataset.ws, onChange, status);
