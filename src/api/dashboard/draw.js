// Drawing shared by the dashboard and the report: the task stream on a canvas, the plan as
// an SVG tree, tables, and number formats. No libraries: the page must work offline.
"use strict";
const RuskDraw = (() => {
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const bytes = (n) => {
    if (n == null) return "";
    const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0; let v = Number(n);
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return (i ? v.toFixed(1) : v.toFixed(0)) + " " + u[i];
  };
  const count = (n) => (n == null ? "" : Number(n).toLocaleString("en-US"));
  // A cell of a result preview: floats to 8 significant digits, as a person reads them.
  const cell = (v) => (typeof v === "number" && !Number.isInteger(v) ? String(+v.toPrecision(8)) : v);
  const secs = (s) => {
    if (s == null || !isFinite(s)) return "";
    if (s < 1e-3) return (s * 1e6).toFixed(0) + " µs";
    if (s < 1) return (s * 1e3).toFixed(1) + " ms";
    if (s < 120) return s.toFixed(2) + " s";
    return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
  };
  const colour = (name) => {
    let h = 0; for (const c of String(name)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    return `hsl(${h % 360}, 62%, ${48 + (h >> 9) % 14}%)`;
  };
  const ms = (t) => (t ? Date.parse(t) : NaN);

  // Lanes: per worker, each span in the first lane where it does not overlap the last one.
  function layout(tasks, now) {
    const byWorker = new Map();
    // Plan order (top operator first), so an operator's partitions sit side by side.
    const sorted = [...tasks].sort((a, b) => a.attempt - b.attempt || a.seq - b.seq);
    for (const t of sorted) {
      const start = ms(t.started_at); const end = t.ended_at ? ms(t.ended_at) : now;
      const key = t.worker + " · attempt " + t.attempt;
      if (!byWorker.has(key)) byWorker.set(key, []);
      const lanes = byWorker.get(key);
      let lane = lanes.find((l) => l.end <= start);
      if (!lane) { lane = { end: -Infinity, spans: [] }; lanes.push(lane); }
      lane.end = Math.max(end, start); lane.spans.push({ t, start, end: Math.max(end, start) });
    }
    const rows = []; for (const [worker, lanes] of byWorker) lanes.forEach((l, i) => rows.push({ worker, first: i === 0, spans: l.spans }));
    return rows;
  }

  // A task stream on `canvas`; returns { update(tasks), drawn } for live pages.
  function taskStream(canvas, tip, legend) {
    const view = { from: null, to: null, rows: [], t0: 0, t1: 1, drawn: 0, tasks: [] };
    const LANE = 12, GAP = 2, TOP = 18, LEFT = 4;
    function draw() {
      const dpr = window.devicePixelRatio || 1;
      const w = canvas.clientWidth, h = Math.max(120, TOP + view.rows.length * (LANE + GAP) + 24);
      canvas.style.height = Math.min(h, 520) + "px";
      canvas.width = w * dpr; canvas.height = Math.min(h, 520) * dpr;
      const g = canvas.getContext("2d"); g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, w, h);
      const from = view.from ?? view.t0, to = view.to ?? view.t1, span = Math.max(1, to - from);
      const x = (t) => LEFT + ((t - from) / span) * (w - 2 * LEFT);
      g.fillStyle = "#5c6670"; g.font = "10px system-ui";
      for (let i = 0; i <= 8; i++) {
        const t = from + (span * i) / 8; const px = x(t);
        g.fillRect(px, TOP - 4, 1, 4);
        g.fillText(secs((t - view.t0) / 1000), Math.min(px + 2, w - 40), 10);
      }
      let drawn = 0;
      view.rows.forEach((row, i) => {
        const y = TOP + i * (LANE + GAP);
        if (row.first && i) { g.fillStyle = "#d8dde3"; g.fillRect(0, y - GAP, w, 1); }
        let lastPx = -1;
        for (const s of row.spans) {
          if (s.end < from || s.start > to) continue;
          const a = x(Math.max(s.start, from)), b = x(Math.min(s.end, to));
          // Zoomed out, spans narrower than a pixel share it: one rectangle per pixel column.
          if (b - a < 1 && Math.floor(a) === lastPx) continue;
          lastPx = Math.floor(a);
          g.fillStyle = colour(s.t.operator);
          g.fillRect(a, y, Math.max(1, b - a - 0.5), LANE);
          drawn++;
        }
      });
      view.drawn = drawn; canvas.dataset.spans = String(drawn); canvas.dataset.lanes = String(view.rows.length);
    }
    function update(tasks) {
      view.tasks = tasks; const now = Date.now();
      view.rows = layout(tasks, now);
      const starts = tasks.map((t) => ms(t.started_at)).filter(isFinite);
      const ends = tasks.map((t) => (t.ended_at ? ms(t.ended_at) : now));
      view.t0 = starts.length ? Math.min(...starts) : now; view.t1 = ends.length ? Math.max(...ends, view.t0 + 1) : now + 1;
      if (legend) {
        const ops = [...new Set(tasks.map((t) => t.operator))].sort();
        legend.innerHTML = ops.map((o) => `<span><i style="background:${colour(o)}"></i>${esc(o)}</span>`).join("");
      }
      draw();
    }
    function at(ev) {
      const r = canvas.getBoundingClientRect(); const w = canvas.clientWidth;
      const from = view.from ?? view.t0, to = view.to ?? view.t1;
      const t = from + ((ev.clientX - r.left - LEFT) / (w - 2 * LEFT)) * (to - from);
      const row = view.rows[Math.floor((ev.clientY - r.top - TOP) / (LANE + GAP))];
      return { t, row };
    }
    canvas.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const { t } = at(ev); const from = view.from ?? view.t0, to = view.to ?? view.t1;
      const k = ev.deltaY > 0 ? 1.25 : 0.8;
      view.from = t - (t - from) * k; view.to = t + (to - t) * k;
      if (view.to - view.from >= view.t1 - view.t0) { view.from = view.to = null; }
      draw();
    }, { passive: false });
    let drag = null;
    canvas.addEventListener("mousedown", (ev) => { drag = { x: ev.clientX, from: view.from ?? view.t0, to: view.to ?? view.t1 }; });
    window.addEventListener("mouseup", () => { drag = null; });
    canvas.addEventListener("mousemove", (ev) => {
      if (drag) {
        const dt = ((ev.clientX - drag.x) / canvas.clientWidth) * (drag.to - drag.from);
        view.from = drag.from - dt; view.to = drag.to - dt; draw(); return;
      }
      const { t, row } = at(ev);
      const hit = row && row.spans.find((s) => s.start <= t && t <= s.end);
      if (!hit || !tip) { if (tip) tip.style.display = "none"; return; }
      const s = hit.t;
      tip.textContent = [
        `${s.operator} · node ${s.node} · partition ${s.partition}`, s.detail || "",
        `${secs((hit.end - hit.start) / 1000)}${s.ended_at ? "" : " (running)"}, compute ${secs(s.compute_ns / 1e9)}`,
        `rows ${count(s.rows)}${s.bytes != null ? ", " + bytes(s.bytes) : ""}`,
        s.spill_count ? `spilled ${s.spill_count}× ${bytes(s.spilled_bytes)}` : "",
        s.memory_peak != null ? `memory peak ${bytes(s.memory_peak)}` : "",
        `${s.worker}, attempt ${s.attempt}`,
      ].filter(Boolean).join("\n");
      tip.style.display = "block"; tip.style.left = ev.clientX + 12 + "px"; tip.style.top = ev.clientY + 12 + "px";
    });
    canvas.addEventListener("mouseleave", () => { if (tip) tip.style.display = "none"; });
    window.addEventListener("resize", draw);
    return { update, view };
  }

  // The plan as a tree, root at the top, each node with its metrics.
  function plan(el, graph) {
    if (!graph || !graph.nodes || !graph.nodes.length) { el.innerHTML = '<span class="muted">no plan kept</span>'; return; }
    const kids = new Map(graph.nodes.map((n) => [n.id, []]));
    const parent = new Map();
    for (const e of graph.edges) { kids.get(e.to).push(e.from); parent.set(e.from, e.to); }
    const root = graph.nodes.find((n) => !parent.has(n.id)) || graph.nodes[0];
    const W = 210, H = 74, DX = 16, DY = 30; const pos = new Map(); let leaf = 0;
    (function place(id, depth) {
      const c = kids.get(id) || [];
      if (!c.length) { pos.set(id, { x: leaf++, y: depth }); return; }
      c.forEach((k) => place(k, depth + 1));
      const xs = c.map((k) => pos.get(k).x); pos.set(id, { x: (Math.min(...xs) + Math.max(...xs)) / 2, y: depth });
    })(root.id, 0);
    const cols = Math.max(1, leaf), depth = Math.max(...[...pos.values()].map((p) => p.y)) + 1;
    const width = cols * (W + DX), height = depth * (H + DY);
    const px = (p) => p.x * (W + DX) + 4, py = (p) => p.y * (H + DY) + 4;
    let svg = `<svg width="${width + 8}" height="${height}" xmlns="http://www.w3.org/2000/svg">`;
    for (const e of graph.edges) {
      const a = pos.get(e.from), b = pos.get(e.to); if (!a || !b) continue;
      svg += `<line x1="${px(a) + W / 2}" y1="${py(a)}" x2="${px(b) + W / 2}" y2="${py(b) + H}" stroke="#8895a3"/>`;
    }
    for (const n of graph.nodes) {
      const p = pos.get(n.id); if (!p) continue; const m = n.metrics || {};
      const spilled = (m.spill_count || 0) > 0;
      const lines = [
        `rows ${count(m.output_rows)} · ${n.partitions} part.`,
        `compute ${secs((m.elapsed_compute_ns || 0) / 1e9)}`,
        (spilled ? `spilled ${bytes(m.spilled_bytes)} · ` : "") + (m.memory_peak_bytes != null ? `mem peak ${bytes(m.memory_peak_bytes)}` : ""),
      ];
      svg += `<g class="node${spilled ? " spilled" : ""}" data-node="${n.id}" data-rows="${m.output_rows ?? ""}"><title>${esc(n.detail)}</title>` +
        `<rect x="${px(p)}" y="${py(p)}" width="${W}" height="${H}" rx="4"/>` +
        `<rect class="stripe" x="${px(p)}" y="${py(p)}" width="6" height="${H}" style="fill:${colour(n.operator)}"/>` +
        `<text class="op" x="${px(p) + 12}" y="${py(p) + 16}">${esc(n.id + " " + n.operator)}</text>` +
        lines.map((l, i) => `<text x="${px(p) + 12}" y="${py(p) + 33 + i * 14}">${esc(l)}</text>`).join("") + `</g>`;
    }
    el.innerHTML = svg + "</svg>";
  }

  // Time, rows and spans summed by operator.
  function timings(el, tasks) {
    const by = new Map();
    for (const t of tasks) {
      const k = t.operator; const s = by.get(k) || { spans: 0, wall: 0, compute: 0, rows: 0, spilled: 0 };
      const start = ms(t.started_at), end = t.ended_at ? ms(t.ended_at) : Date.now();
      s.spans++; s.wall += Math.max(0, end - start) / 1000; s.compute += t.compute_ns / 1e9; s.rows += t.rows; s.spilled += t.spilled_bytes;
      by.set(k, s);
    }
    const rows = [...by].sort((a, b) => b[1].compute - a[1].compute);
    el.innerHTML = `<table><thead><tr><th>operator</th><th class="num">spans</th><th class="num">wall (sum)</th><th class="num">compute</th><th class="num">rows out</th><th class="num">spilled</th></tr></thead><tbody>` +
      rows.map(([k, s]) => `<tr><td><i style="display:inline-block;width:10px;height:10px;background:${colour(k)}"></i> ${esc(k)}</td><td class="num">${s.spans}</td><td class="num">${secs(s.wall)}</td><td class="num">${secs(s.compute)}</td><td class="num">${count(s.rows)}</td><td class="num">${bytes(s.spilled)}</td></tr>`).join("") +
      `</tbody></table>`;
  }

  function attempts(el, log) {
    el.innerHTML = !log || !log.length ? '<span class="muted">none yet</span>' :
      `<table><thead><tr><th>#</th><th>worker</th><th>started</th><th class="num">took</th><th>outcome</th><th>error</th></tr></thead><tbody>` +
      log.map((a) => `<tr><td>${a.attempt}</td><td>${esc(a.worker)}</td><td>${esc(a.started_at)}</td><td class="num">${a.ended_at ? secs((ms(a.ended_at) - ms(a.started_at)) / 1000) : "running"}</td><td>${esc(a.outcome || "")}</td><td>${esc(a.error ? a.error.code + ": " + a.error.message : "")}</td></tr>`).join("") + `</tbody></table>`;
  }

  return { esc, bytes, count, cell, secs, colour, taskStream, plan, timings, attempts };
})();
