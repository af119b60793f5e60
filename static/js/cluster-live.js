// The live model of one cluster: a snapshot, then deltas in seq order (README, "Live updates").
// A gap in seq asks the server for a fresh snapshot; a dropped socket reconnects with back-off
// and starts again from a snapshot, as Zulip clients do.

export class ClusterModel {
  constructor() {
    this.objects = new Map();   // key -> view object (see clusters/wire.py)
    this.events = [];           // oldest first
    this.timers = [];
    this.clock = { time: 0, speed: 1, paused: false, wall: Date.now() / 1000 };
    this.seq = -1;
    this.skew = 0;              // server wall clock − browser wall clock, seconds
    this.traffic = {};          // "ns/service" -> the last second: rps, errors, p95, split
    this.series = {};           // "ns/service" -> [[time, ok, errors, p95, p50, p99], …] (two minutes)
  }

  simNow() {
    const c = this.clock;
    if (c.paused) return c.time;
    return c.time + Math.max(0, Date.now() / 1000 + this.skew - c.wall) * c.speed;
  }

  applySnapshot(s) {
    if (s.serverWall) this.skew = s.serverWall - Date.now() / 1000;
    this.objects = new Map(s.objects.map((o) => [o.key, o]));
    this.events = s.events.slice();
    this.timers = s.timers;
    this.clock = s.clock;
    this.seq = s.seq;
    this.traffic = s.traffic || {};
    this.series = s.series || {};
    return { snapshot: true, traffic: this.traffic, upserts: s.objects, deletes: [], events: s.events, activity: [], binds: [] };
  }

  applyDelta(d) {
    const removed = [];
    for (const key of d.deletes) {
      const o = this.objects.get(key);
      if (o) removed.push(o);
      this.objects.delete(key);
    }
    for (const o of d.upserts) this.objects.set(o.key, o);
    if (d.events.length) {
      // An event seen again (kubectl's COUNT going up) replaces its earlier copy; one pass, not one per event.
      const key = (e) => `${e.object}|${e.reason}|${e.message}|${e.source}`;
      const fresh = new Map();
      for (const e of d.events) { fresh.delete(key(e)); fresh.set(key(e), e); }
      this.events = this.events.filter((x) => !fresh.has(key(x)));
      this.events.push(...fresh.values());
    }
    if (this.events.length > 400) this.events.splice(0, this.events.length - 300);
    this.timers = d.timers;
    this.clock = d.clock;
    this.seq = d.seq;
    if (d.traffic) {
      this.traffic = d.traffic;
      for (const [key, t] of Object.entries(d.traffic)) {
        const s = (this.series[key] ||= []);
        s.push([d.time, t.rps, t.errors, t.p95, t.p50, t.p99]);
        if (s.length > 120) s.splice(0, s.length - 120);
      }
    }
    return { snapshot: false, traffic: d.traffic, upserts: d.upserts, deletes: d.deletes, removed, events: d.events, activity: d.activity, binds: d.binds };
  }

  ofKind(kind) {
    const out = [];
    for (const o of this.objects.values()) if (o.kind === kind) out.push(o);
    return out;
  }
}

export function connect(url, onChange, onStatus) {
  const model = new ClusterModel();
  let ws = null;
  let retry = 500;
  let closedByUs = false;

  function open() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}${url}`);
    onStatus?.("connecting");
    ws.onopen = () => { retry = 500; onStatus?.("live"); };
    let partial = null; // a snapshot or delta that comes in parts: its head, and how many are missing
    ws.onmessage = (ev) => {
      let msg = JSON.parse(ev.data);
      if (msg.type === "part") {
        // The rest of a message too large for one (clusters/wire.py texts): its lists go on.
        if (!partial || msg.seq !== partial.head.seq) {
          partial = null;
          ws.send(JSON.stringify({ type: "snapshot" })); // a part of nothing we have: start again
          return;
        }
        for (const [key, items] of Object.entries(msg)) {
          if (key !== "type" && key !== "seq") partial.head[key].push(...items);
        }
        if (--partial.missing > 0) return;
        msg = partial.head;
        partial = null;
      } else if (msg.parts > 1) {
        partial = { head: msg, missing: msg.parts - 1 };
        return;
      }
      if (msg.type === "snapshot") {
        onChange(model, model.applySnapshot(msg));
      } else if (msg.type === "delta") {
        if (model.seq >= 0 && msg.seq !== model.seq + 1) {
          if (msg.seq <= model.seq) return; // already have it
          ws.send(JSON.stringify({ type: "snapshot" })); // a gap: start again from a snapshot
          return;
        }
        onChange(model, model.applyDelta(msg));
      } else if (msg.type === "announce") {
        document.dispatchEvent(new CustomEvent("kubelab:announce", { detail: msg.text }));
      }
    };
    ws.onclose = (ev) => {
      onStatus?.(ev.code === 4403 || ev.code === 4404 ? "gone" : "down");
      if (closedByUs || ev.code === 4403 || ev.code === 4404) return; // removed, or the classroom is gone
      setTimeout(open, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }
  open();
  return { model, close() { closedByUs = true; ws?.close(); } };
}

// ----- small shared helpers -----------------------------------------------------------------------------
export function csrfToken() {
  const el = document.querySelector("[name=csrfmiddlewaretoken]");
  return el ? el.value : "";
}

export async function post(url, data = {}) {
  const body = new URLSearchParams(data);
  const res = await fetch(url, {
    method: "POST",
    headers: { "X-CSRFToken": csrfToken(), Accept: "application/json", "X-KubeLab-UI": "1" },
    body,
  });
  let json = null;
  try { json = await res.json(); } catch { json = { ok: false, output: `${res.status} ${res.statusText}` }; }
  return { status: res.status, ...json };
}

export function toast(text, isError = false) {
  const box = document.querySelector("[data-toasts]");
  if (!box || !text) return;
  const t = document.createElement("div");
  t.className = "toast" + (isError ? " error" : "");
  t.textContent = text;
  box.append(t);
  setTimeout(() => t.remove(), isError ? 8000 : 3500);
  while (box.children.length > 4) box.firstChild.remove();
}

// kubectl's AGE (apimachinery duration.HumanDuration)
export function humanDuration(seconds) {
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  const s = Math.floor(seconds);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(s / 3600);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 192) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 730) return `${Math.floor(h / 24)}d`;
  const y = Math.floor(h / 24 / 365);
  const d = Math.floor(h / 24) - y * 365;
  return y < 8 && d ? `${y}y${d}d` : `${y}y`;
}

export function clockText(t) {
  const s = Math.max(0, Math.floor(t));
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

// A colour-blind-safe palette (Okabe–Ito), chosen per owning Deployment.
export function ownerIndex(name) {
  let h = 0;
  for (const ch of name || "") h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h % 8;
}

export function appOf(pod) {
  // The Deployment a pod belongs to: its ReplicaSet's name minus the pod-template-hash.
  if (pod.owner && pod.owner.kind === "ReplicaSet") {
    const hash = pod.labels && pod.labels["pod-template-hash"];
    if (hash && pod.owner.name.endsWith(`-${hash}`)) return pod.owner.name.slice(0, -hash.length - 1);
    return pod.owner.name;
  }
  return pod.name;
}
