// Rung HMI page: draws what the server pushes over the WebSocket; every control sends
// one request back on it. No library and nothing fetched from outside this server.
"use strict";

const $ = (id) => document.getElementById(id);
let program = null;
let readOnly = true;
let ws = null;
let nextId = 1;
let lastSnap = null;
const rows = new Map();      // tag key -> {tr, value, tag}
const rungEls = [];          // per rung: {box, sig: [[elements]], txt: [elements]}
const trend = new Map();     // tag key -> [[t, v], ...]
const COLORS = ["#0b57d0", "#c0392b", "#0f9d3a", "#8e44ad", "#d35400", "#16a085"];

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const k of kids) e.append(k);
  return e;
}

function show(text, ok) {
  const m = $("message");
  m.hidden = !text;
  m.textContent = text;
  m.className = "message" + (ok ? "" : " err");
}

function send(op, tag, value) {
  if (!ws || ws.readyState !== WebSocket.OPEN) { show("not connected to the HMI server", false); return; }
  ws.send(JSON.stringify({ id: nextId++, op, tag, value }));
}

function fmt(tag, v) {
  if (v === undefined || v === null) return "?";
  if (tag.type === "bool") return v ? "TRUE" : "FALSE";
  if (tag.type === "real" && typeof v === "number") return String(Number(v.toPrecision(7)));
  if (tag.type === "time") return v + " ms";
  return String(v);
}

function buildTags() {
  const body = document.querySelector("#tags tbody");
  body.textContent = "";
  for (const tag of program.tags) {
    const numeric = program.trendable.includes(tag.key);
    const cb = el("input", { type: "checkbox", disabled: !numeric, title: numeric ? "trend" : "" });
    cb.addEventListener("change", () => toggleTrend(tag, cb.checked));
    const value = el("span", { class: "value" });
    const mark = el("span", { class: "forcemark", textContent: "F", title: "forced", hidden: true });
    const actions = el("td", {});
    const input = el("input", { type: "text", placeholder: tag.type, "data-role": "value" });
    if (tag.writable || tag.forceable) actions.append(input);
    const act = (op, label, fn) => {
      const b = el("button", { textContent: label, "data-op": op });
      b.addEventListener("click", fn);
      actions.append(b);
    };
    if (tag.type === "bool" && (tag.writable || tag.forceable)) {
      act("toggle", "Toggle", () => {
        const cur = lastSnap && lastSnap.values ? lastSnap.values[tag.key] : false;
        send(tag.writable ? "write" : "force", tag.name, cur ? "0" : "1");
      });
    }
    if (tag.writable) act("write", "Write", () => send("write", tag.name, input.value));
    if (tag.forceable) {
      act("force", "Force", () => send("force", tag.name, input.value));
      act("unforce", "Unforce", () => send("unforce", tag.name));
    }
    const tr = el("tr", { "data-key": tag.key, "data-name": tag.name, title: tag.description || "" },
      el("td", {}, cb), el("td", { textContent: tag.name }), el("td", { textContent: tag.type }),
      el("td", { textContent: tag.address || (tag.kind === "member" ? tag.description : "-") }),
      el("td", { class: "v" }, value, mark), actions);
    body.append(tr);
    rows.set(tag.key, { tr, value, mark, tag });
  }
}

function buildLadder() {
  const box = $("ladder");
  box.textContent = "";
  for (const r of program.rungs) {
    const head = el("h3", { textContent: `rung ${r.index}${r.name ? " " + r.name : ""}` +
      (r.line ? ` (line ${r.line})` : "") });
    if (r.comment) head.append(el("span", { class: "cm", textContent: "  " + r.comment }));
    const div = el("div", { class: "rung", id: "rung-" + r.index, "data-rung": r.index }, head);
    div.insertAdjacentHTML("beforeend", r.svg);  // drawn by the server from the program
    box.append(div);
    const svg = div.querySelector("svg");
    const sig = [];
    for (const e of svg.querySelectorAll("[data-s]")) {
      const k = +e.getAttribute("data-s");
      (sig[k] = sig[k] || []).push(e);
    }
    const txt = [];
    for (const e of svg.querySelectorAll("[data-t]")) txt[+e.getAttribute("data-t")] = e;
    rungEls.push({ div, svg, sig, txt });
  }
}

function applyFilter() {
  const q = $("filter").value.trim().toLowerCase();
  for (const { tr, tag } of rows.values()) {
    const hay = (tag.name + " " + tag.address + " " + tag.type + " " + tag.kind).toLowerCase();
    tr.hidden = q !== "" && !hay.includes(q);
  }
}

function updateStatus(s) {
  const st = s.status || {};
  const badge = $("state");
  badge.textContent = s.state;
  badge.className = "badge " + s.state;
  $("fault").textContent = s.state === "FAULT" ? `fault ${st.fault}: ${s.fault_text}` :
    (st.math_error ? "math_error" : "");
  $("scans").textContent = st.scans ?? "-";
  $("scan_last").textContent = st.last_us ?? "-";
  $("scan_avg").textContent = st.avg_us ?? "-";
  $("scan_max").textContent = st.max_us ?? "-";
  $("overruns").textContent = st.overruns ?? "-";
  $("nforced").textContent = st.forced ?? "-";
  $("clients").textContent = st.clients ?? "-";
  $("crc").textContent = s.matched === null ? (st.crc || "-") :
    (s.matched ? "match" : `MISMATCH (device ${st.crc})`);
  const l = s.link;
  $("link").textContent = s.connected ? `${l.quality ?? "-"}% ${l.rtt_ms} ms, refresh ${s.refresh_ms} ms` :
    "down, retrying";
  const banner = $("banner");
  if (!s.connected) {
    banner.hidden = false;
    banner.textContent = `No connection to ${l.target}: ${s.error || "connecting"}. Retrying…`;
  } else if (s.matched === false) {
    banner.hidden = false;
    banner.textContent = `The device runs another program (CRC ${st.crc}, file ${program.crc}): ` +
      "power flow is not drawn; values are shown by variable number.";
  } else banner.hidden = true;
}

function updateRaw(s) {
  // the device runs another program (or none is loaded): values by variable number only
  const byIndex = !s.values && s.raw && s.raw.length > 0;
  $("tags").hidden = byIndex;
  $("filter").hidden = byIndex;
  $("raw").hidden = !byIndex;
  if (!byIndex) return false;
  const body = document.querySelector("#raw tbody");
  const forced = new Set(s.forced || []);
  while (body.rows.length > s.raw.length) body.deleteRow(-1);
  while (body.rows.length < s.raw.length) {
    const i = body.rows.length;
    const tr = body.insertRow();
    for (let k = 0; k < 5; k++) tr.insertCell();
    tr.cells[0].textContent = "v" + i;
    tr.cells[1].textContent = `IR ${10000 + 2 * i}-${10001 + 2 * i}`;
  }
  s.raw.forEach((u, i) => {
    const cells = body.rows[i].cells;
    cells[2].textContent = String(u | 0);
    cells[3].textContent = "0x" + u.toString(16).padStart(8, "0");
    cells[4].textContent = forced.has(i) ? "F" : "";
  });
  return true;
}

function updateTags(s) {
  if (updateRaw(s)) return;
  const forced = new Set(s.forced || []);
  for (const { tr, value, mark, tag } of rows.values()) {
    let v;
    v = s.values ? fmt(tag, s.values[tag.key]) : "?";
    if (value.textContent !== v) value.textContent = v;
    const f = tag.var !== null && forced.has(tag.var);
    mark.hidden = !f;
    tr.classList.toggle("forced", f);
  }
}

function updateLadder(s) {
  rungEls.forEach((r, i) => {
    const live = s.rungs ? s.rungs[i] : null;
    r.svg.classList.toggle("stale", !live);
    r.div.classList.toggle("powered", !!(live && s.status && live[0][live[0].length - 1]));
    r.sig.forEach((els, k) => {
      const v = live ? live[0][k] : null;
      for (const e of els) {
        e.classList.toggle("on", v === 1);
        e.classList.toggle("unk", live !== null && v === null);
      }
    });
    r.txt.forEach((e, k) => { const t = live ? live[1][k] : ""; if (e.textContent !== t) e.textContent = t; });
  });
}

async function toggleTrend(tag, on) {
  if (!on) { trend.delete(tag.key); drawTrend(); return; }
  const r = await fetch("/api/trend?tag=" + encodeURIComponent(tag.key));
  const data = r.ok ? await r.json() : { points: [] };
  trend.set(tag.key, data.points.filter((p) => typeof p[1] === "number"));
  drawTrend();
}

function drawTrend() {
  const c = $("trend");
  const g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  const span = +$("span").value;
  const now = Date.now() / 1000;
  const legend = $("legend");
  legend.textContent = "";
  let lo = Infinity, hi = -Infinity;
  for (const pts of trend.values()) for (const [t, v] of pts) if (t >= now - span) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (lo === Infinity) { g.fillStyle = "#889"; g.fillText("tick a numeric tag to trend it", 10, 20); return; }
  if (hi === lo) { hi += 1; lo -= 1; }
  const L = 50, W = c.width - L - 8, H = c.height - 24;
  g.strokeStyle = "#ccd"; g.fillStyle = "#556"; g.font = "11px monospace";
  for (let k = 0; k <= 4; k++) {
    const y = 8 + H * k / 4;
    g.beginPath(); g.moveTo(L, y); g.lineTo(L + W, y); g.stroke();
    g.fillText(String(+(hi - (hi - lo) * k / 4).toPrecision(4)), 2, y + 4);
  }
  g.fillText(`-${span / 60} min`, L, c.height - 4);
  g.fillText("now", L + W - 22, c.height - 4);
  let n = 0;
  for (const [key, pts] of trend) {
    const color = COLORS[n++ % COLORS.length];
    g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
    let first = true;
    for (const [t, v] of pts) {
      if (t < now - span) continue;
      const x = L + W * (t - (now - span)) / span, y = 8 + H * (hi - v) / (hi - lo);
      if (first) { g.moveTo(x, y); first = false; } else g.lineTo(x, y);
    }
    g.stroke();
    legend.append(el("span", { textContent: "■ " + rows.get(key).tag.name, style: "color:" + color }));
  }
}

function onSnap(s) {
  lastSnap = s;
  updateStatus(s);
  if (!program) { updateRaw(s); return; }
  updateTags(s);
  updateLadder(s);
  if (s.values && trend.size) {
    for (const [key, pts] of trend) {
      const v = s.values[key];
      if (typeof v === "number" && (!pts.length || s.time - pts[pts.length - 1][0] >= 0.5)) pts.push([s.time, v]);
      while (pts.length && pts[0][0] < s.time - 600) pts.shift();
    }
    drawTrend();
  }
}

function connect(delay) {
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.onopen = () => { delay = 500; };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === "snap") onSnap(m);
    else if (m.type === "result") show(m.message, m.ok);
  };
  ws.onclose = () => {
    $("state").textContent = "HMI server lost";
    $("state").className = "badge off";
    setTimeout(() => connect(Math.min(delay * 2, 5000)), delay);
  };
}

async function start() {
  const r = await fetch("/api/program");
  if (r.status === 401) { location.href = "/login"; return; }
  const info = await r.json();
  readOnly = info.read_only;
  program = info.program;
  $("target").textContent = "on " + info.target;
  if (program) {
    $("program").textContent = program.name + " (CRC " + program.crc + ")";
    document.title = program.name + " · Rung HMI";
    buildLadder();
    buildTags();
  }
  if (readOnly) { $("controls").remove(); $("readonly").hidden = false; }
  else for (const b of document.querySelectorAll("#controls button")) b.addEventListener("click", () => send(b.dataset.cmd));
  $("filter").addEventListener("input", applyFilter);
  $("span").addEventListener("change", drawTrend);
  connect(500);
}

start();
