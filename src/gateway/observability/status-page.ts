import { createHash } from "node:crypto";

/**
 * The status page at `/` of the metrics port: one self-contained HTML document (no external
 * assets: the gateway may run where nothing else is reachable) that reads `status.json` every
 * 2 s and renders it. Data goes into the DOM as text only, never as markup, so a log line cannot
 * inject anything; the Content-Security-Policy allows exactly this page's own script and style.
 */

const STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --warn: #b35900; --bad: #c62828; --muted: #6b7280; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 16px 24px; }
header { display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; margin-bottom: 12px; }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 15px; margin: 20px 0 6px; }
.muted { color: var(--muted); }
.pill { padding: 1px 8px; border-radius: 10px; font-size: 12px; border: 1px solid currentColor; }
.ok { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.card .label { font-size: 12px; color: var(--muted); }
.card .value { font-size: 22px; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 3px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; white-space: normal; }
table.log th, table.log td { text-align: left; }
.bar { display: inline-block; width: 90px; height: 8px; background: var(--line); border-radius: 4px; vertical-align: middle; margin-right: 6px; }
.bar > span { display: block; height: 100%; background: var(--ok); border-radius: 4px; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 0 24px; }
`;

const SCRIPT = `
"use strict";
const PRIORITIES = ["CRITICAL", "HIGH", "NORMAL", "LOW"];
const $ = (id) => document.getElementById(id);
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) tr.appendChild(c instanceof Node ? wrapCell(c) : el("td", c));
  return tr;
}
function wrapCell(node) {
  if (node.tagName === "TD") return node;
  const td = document.createElement("td");
  td.appendChild(node);
  return td;
}
function num(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"); }
function ms(n) { return n === null || n === undefined ? "–" : (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : Math.round(n).toLocaleString("en-US")) + " ms"; }
function pct(r) { return r === null || r === undefined ? "–" : (r * 100).toFixed(1) + "%"; }
function bytes(n) {
  if (n === undefined || n === null) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
}
function clock(msUtc) { return msUtc ? new Date(msUtc).toISOString().replace("T", " ").replace(/\\.\\d+Z$/, " UTC") : "never"; }
function until(msUtc, now) { return Math.max(0, Math.ceil((msUtc - now) / 1000)) + " s"; }
function setText(id, text, cls) { const e = $(id); e.textContent = text; if (cls !== undefined) e.className = cls; }
function fill(id, rows) { const body = $(id); body.replaceChildren(...rows); }

function render(s) {
  const now = s.updatedAtMs;
  const updated = $("updated-at");
  updated.textContent = clock(now);
  updated.dataset.ms = String(now);
  setText("uptime", "up " + Math.round((now - s.startedAtMs) / 1000).toLocaleString("en-US") + " s");
  setText("upstream-calls", num(s.upstream.calls));
  setText("upstream-saved", num(s.upstream.saved));
  setText("store-hit-ratio", pct(s.hitRatios.store.ratio));
  setText("store-hit-detail", num(s.hitRatios.store.local) + " of " + num(s.hitRatios.store.total) + " GetCandles");
  setText("realtime-hit-ratio", pct(s.hitRatios.realtimeCache.ratio));
  setText("realtime-hit-detail", num(s.hitRatios.realtimeCache.local) + " of " + num(s.hitRatios.realtimeCache.total) + " snapshots");
  setText("daemon-cache-hit-ratio", pct(s.hitRatios.daemonRealtimeCache));
  setText("streams-active", num(s.streams.activeTotal));
  setText("subscribers", num(s.streams.subscribers));
  setText("event-loop-lag", ms(s.eventLoop.lagMs));
  setText("event-loop-detail", "p99 " + ms(s.eventLoop.p99Ms) + ", max " + ms(s.eventLoop.maxMs) + ", own work max " + ms(s.eventLoop.busyMaxMs));

  fill("rate-budget", s.rateBudget.map((g) => {
    const share = g.limit > 0 ? Math.min(1, g.used / g.limit) : 0;
    const bar = el("span", undefined, "bar");
    const inner = el("span");
    inner.style.width = (share * 100).toFixed(0) + "%";
    if (share >= 0.9) inner.style.background = "var(--warn)";
    bar.appendChild(inner);
    const used = el("td");
    used.append(bar, g.used + " / " + g.limit);
    const state = g.blockedUntilMs > 0 ? el("td", "blocked " + until(g.blockedUntilMs, now), "bad")
      : g.pausedUntilMs > 0 ? el("td", "paused " + until(g.pausedUntilMs, now), "warn") : el("td", "ok", "ok");
    const tr = row([g.group, used, ...PRIORITIES.map((p) => num(g.queued[p])), state, num(g.requests), num(g.rateLimited), num(g.blocked), num(g.retries), num(g.errors)]);
    tr.dataset.group = g.group;
    return tr;
  }));

  fill("latency", s.latency.map((l) => {
    const tr = row([l.priority, num(l.count), ms(l.count ? l.p50Ms : null), ms(l.count ? l.p99Ms : null)]);
    tr.dataset.priority = l.priority;
    return tr;
  }));

  const streams = s.streams.active.length ? s.streams.active.map((a) => row([a.method, num(a.count)])) : [row(["none", "0"])];
  fill("streams", streams);
  setText("ws-state", s.streams.upstreamState, s.streams.upstreamState === "open" ? "ok" : s.streams.upstreamState === "idle" ? "muted" : "warn");
  setText("ws-topics", num(s.streams.upstreamTopics));
  setText("ws-updates", num(s.streams.updates));

  const st = s.store;
  setText("store-state", st.up ? "up" : "down" + (st.error ? ": " + st.error : ""), st.up ? "ok" : "bad");
  setText("store-db-size", bytes(st.databaseSizeBytes));
  setText("store-wal-size", bytes(st.walSizeBytes));
  setText("store-free-blocks", st.freeBlocks === undefined ? "–" : num(st.freeBlocks) + " of " + num(st.totalBlocks));
  setText("store-candles", num(st.candleRows));
  setText("store-series", num(st.series));
  setText("store-maintenance", st.lastMaintenanceMs ? clock(st.lastMaintenanceMs) + (st.lastMaintenanceDetail ? " — " + st.lastMaintenanceDetail : "") : st.up ? "none since the daemon started" : "–");
  setText("hot-candles", num(st.hotCandles));

  setText("problems-total", num(s.problemsTotal) + " since start");
  const problems = s.recentProblems.map((p) => {
    const fields = Object.keys(p.fields).length ? " " + JSON.stringify(p.fields) : "";
    return row([p.time.replace("T", " ").replace("Z", ""), el("td", p.level, p.level === "error" ? "bad" : "warn"), p.component, el("td", p.message + fields, "text")]);
  });
  fill("problems", problems.length ? problems : [row(["none", "", "", ""])]);
}

async function refresh() {
  try {
    const res = await fetch("status.json", { cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    render(await res.json());
    setText("link", "live", "pill ok");
  } catch (e) {
    setText("link", "not updating: " + (e && e.message ? e.message : e), "pill bad");
  } finally {
    setTimeout(refresh, 2000);
  }
}
refresh();
`;

const BODY = `
<header>
  <h1>market-data-backbone gateway</h1>
  <span id="link" class="pill muted">loading…</span>
  <span>updated <time id="updated-at" data-ms="0">–</time></span>
  <span id="uptime" class="muted"></span>
</header>
<section class="cards">
  <div class="card"><div class="label">Upstream calls</div><div class="value" id="upstream-calls">–</div><div class="label">REST requests to Upbit</div></div>
  <div class="card"><div class="label">Upstream calls saved</div><div class="value" id="upstream-saved">–</div><div class="label">answers from store or cache</div></div>
  <div class="card"><div class="label">Store hit ratio</div><div class="value" id="store-hit-ratio">–</div><div class="label" id="store-hit-detail"></div></div>
  <div class="card"><div class="label">Realtime cache hit ratio</div><div class="value" id="realtime-hit-ratio">–</div><div class="label" id="realtime-hit-detail"></div></div>
  <div class="card"><div class="label">Daemon cache hit ratio</div><div class="value" id="daemon-cache-hit-ratio">–</div><div class="label">realtime cache reads</div></div>
  <div class="card"><div class="label">Active streams</div><div class="value" id="streams-active">–</div><div class="label"><span id="subscribers">–</span> hub subscribers</div></div>
  <div class="card"><div class="label">Event-loop lag</div><div class="value" id="event-loop-lag">–</div><div class="label" id="event-loop-detail"></div></div>
</section>
<h2>Rate budget per Upbit group</h2>
<table>
  <thead><tr><th>group</th><th>used / limit</th><th>CRITICAL</th><th>HIGH</th><th>NORMAL</th><th>LOW</th><th>state</th><th>requests</th><th>429</th><th>418</th><th>retries</th><th>errors</th></tr></thead>
  <tbody id="rate-budget"></tbody>
</table>
<div class="grid2">
  <div>
    <h2>RPC latency, last 60 s</h2>
    <table><thead><tr><th>priority</th><th>calls</th><th>p50</th><th>p99</th></tr></thead><tbody id="latency"></tbody></table>
    <h2>Streams</h2>
    <table><thead><tr><th>method</th><th>open</th></tr></thead><tbody id="streams"></tbody></table>
    <p>Upstream WebSocket: <span id="ws-state">–</span> · topics <span id="ws-topics">–</span> · updates <span id="ws-updates">–</span></p>
  </div>
  <div>
    <h2>Storage daemon</h2>
    <table>
      <tbody>
        <tr><td>state</td><td id="store-state">–</td></tr>
        <tr><td>database size</td><td id="store-db-size">–</td></tr>
        <tr><td>write-ahead log</td><td id="store-wal-size">–</td></tr>
        <tr><td>free blocks</td><td id="store-free-blocks">–</td></tr>
        <tr><td>candles stored</td><td id="store-candles">–</td></tr>
        <tr><td>series</td><td id="store-series">–</td></tr>
        <tr><td>last maintenance</td><td id="store-maintenance" class="text">–</td></tr>
        <tr><td>hot candles (gateway)</td><td id="hot-candles">–</td></tr>
      </tbody>
    </table>
  </div>
</div>
<h2>Recent problems <span id="problems-total" class="muted"></span></h2>
<table class="log"><thead><tr><th>time (UTC)</th><th>level</th><th>component</th><th>message</th></tr></thead><tbody id="problems"></tbody></table>
`;

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>market-data-backbone status</title>
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

/** Allows this page's inline script and style and fetches to its own origin, nothing else. */
export const STATUS_PAGE_CSP = `default-src 'none'; script-src ${sha256(SCRIPT)}; style-src ${sha256(STYLE)}; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
