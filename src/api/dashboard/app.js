// The dashboard: one SSE stream (read with fetch, so the API key goes in a header, never in
// a URL) feeds the jobs list, the workers and the job being looked at.
"use strict";
(() => {
  const D = RuskDraw, $ = (id) => document.getElementById(id);
  const state = { key: sessionStorage.getItem("rusk-key") || "", filter: "", job: null, tasks: new Map(),
    abort: null, prev: new Map(), planFor: null, resultFor: null };
  // For tests and curious people: what the page has seen and drawn.
  const seen = (window.ruskDashboard = { snapshots: 0, spansDrawn: 0, jobs: [], workers: 0 });
  const stream = D.taskStream($("stream"), $("tip"), $("legend"));
  const headers = () => (state.key ? { Authorization: "Bearer " + state.key } : {});

  function fromHash() { const m = location.hash.match(/job=([0-9a-f-]{36})/); return m ? m[1] : null; }
  state.job = fromHash();

  async function connect() {
    if (state.abort) state.abort.abort();
    const abort = (state.abort = new AbortController());
    const q = new URLSearchParams(); if (state.job) q.set("job", state.job); if (state.filter) q.set("state", state.filter);
    let res;
    try { res = await fetch("/v1/dashboard/events?" + q, { headers: headers(), signal: abort.signal }); }
    catch (e) { if (!abort.signal.aborted) retry(abort); return; }
    if (res.status === 401) { showLogin(state.key ? "that key was refused" : ""); return; }
    if (!res.ok) { $("status").textContent = "error " + res.status + ": " + (await res.text()); retry(abort); return; }
    $("login").hidden = true; $("main").hidden = false; $("status").textContent = "live";
    const reader = res.body.getReader(); const text = new TextDecoder(); let buf = "";
    try {
      for (;;) {
        const { value, done } = await reader.read(); if (done) break;
        buf += text.decode(value, { stream: true });
        let cut; while ((cut = buf.indexOf("\n\n")) >= 0) { handle(buf.slice(0, cut)); buf = buf.slice(cut + 2); }
      }
    } catch (e) { /* aborted or dropped */ }
    if (!abort.signal.aborted) retry(abort);
  }
  function retry(abort) { $("status").textContent = "reconnecting…"; setTimeout(() => { if (state.abort === abort) connect(); }, 2000); }

  function handle(block) {
    let event = "message", data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data += line.slice(5).replace(/^ /, "");
    }
    if (event === "error") { $("status").textContent = "store: " + data; return; }
    if (event !== "snapshot" || !data) return;
    const snap = JSON.parse(data); seen.snapshots++;
    $("status").textContent = "live · " + new Date(snap.at).toLocaleTimeString();
    renderJobs(snap); renderWorkers(snap.workers);
    if (snap.job && snap.job.id === state.job) renderJob(snap.job, snap.tasks);
  }

  // Progress in the finest unit there is: a Ballista job's stages on its cluster; else the
  // scans' files (or file ranges) where they tell; else partitions.
  function units(p) {
    if (p.stages_total) return { done: p.stages_done || 0, total: p.stages_total, name: "stages" };
    return p.files_total ? { done: p.files_done || 0, total: p.files_total, name: "files" }
      : { done: p.partitions_done || 0, total: p.partitions_total || 0, name: "partitions" };
  }

  function progressCell(j) {
    const u = units(j.progress || {}); const p = j.progress || {};
    const pct = j.state === "succeeded" ? 100 : u.total ? Math.floor((100 * u.done) / u.total) : 0;
    return `<div class="bar" title="${u.done}/${u.total} ${u.name}" data-done="${u.done}" data-total="${u.total}" data-rows="${p.rows_read || 0}"><span style="width:${pct}%"></span></div>`;
  }

  function renderJobs(snap) {
    const now = Date.parse(snap.at); const rows = [];
    seen.jobs = snap.jobs.map((j) => j.id);
    for (const j of snap.jobs) {
      const p = j.progress || {}; const before = state.prev.get(j.id);
      let rate = "", eta = "";
      if (j.state === "running" && before && now > before.at) {
        const bps = ((p.bytes_read || 0) - before.bytes) / ((now - before.at) / 1000);
        rate = bps > 0 ? D.bytes(bps) + "/s" : "";
        const { done, total } = units(p), started = Date.parse(j.started_at);
        if (done > 0 && total > done) eta = D.secs(((now - started) / 1000 / done) * (total - done));
      }
      state.prev.set(j.id, { at: now, bytes: p.bytes_read || 0 });
      const end = j.finished_at ? Date.parse(j.finished_at) : now; const start = Date.parse(j.started_at || j.created_at);
      rows.push(`<tr class="job${j.id === state.job ? " selected" : ""}" data-id="${j.id}" data-state="${j.state}">` +
        `<td><code>${j.id.slice(0, 8)}</code> ${D.esc(j.name || "")}</td>` +
        `<td><span class="state ${j.state}">${j.state}</span>${j.error_code ? ' <span class="muted">' + D.esc(j.error_code) + "</span>" : ""}</td>` +
        `<td>${progressCell(j)}</td><td class="num">${D.count(p.rows_read)}</td><td class="num">${rate}</td><td class="num">${eta}</td>` +
        `<td class="num">${D.secs((end - start) / 1000)}</td></tr>`);
    }
    $("jobs").innerHTML = rows.join("") || '<tr><td colspan="7" class="muted">no jobs</td></tr>';
    $("job-count").textContent = "(" + snap.jobs.length + ")";
  }

  // Each device as "cuda:0", its name and memory on hover (the panel is narrow).
  function gpus(devices) {
    if (!devices.length) return '<span class="muted">none</span>';
    return devices.map((d) => {
      const label = `${d.kind === "cuda" ? "cuda" : "stub"}:${d.index}`;
      const memory = d.total_memory ? `, ${D.bytes(d.free_memory)} free of ${D.bytes(d.total_memory)}` : "";
      return `<span class="gpu" title="${D.esc(d.name + memory)}">${D.esc(label)}</span>`;
    }).join(" ");
  }

  function renderWorkers(workers) {
    seen.workers = workers.length;
    $("workers").innerHTML = workers.map((w) => {
      const limit = w.capabilities.memory_limit || 0, used = (w.load && w.load.memory_reserved) || 0;
      const cpu = w.load && w.load.cpu_percent != null ? w.load.cpu_percent.toFixed(0) + " %" : "";
      const ago = (Date.now() - Date.parse(w.last_seen)) / 1000;
      return `<tr class="worker" data-id="${D.esc(w.id)}"><td title="${D.esc(w.id)} on ${D.esc(w.hostname)}">${D.esc(w.id.length > 24 ? w.id.slice(0, 23) + "…" : w.id)}</td>` +
        `<td>${w.busy} busy / ${w.free} free</td>` +
        `<td><div class="bar mem" title="${D.bytes(used)} of ${D.bytes(limit)}"><span style="width:${limit ? Math.min(100, (100 * used) / limit) : 0}%"></span></div> <span class="muted">${D.bytes(used)} / ${D.bytes(limit)}</span></td>` +
        `<td class="num">${D.bytes((w.load && w.load.spilled_bytes) || 0)}</td><td class="num">${cpu}</td>` +
        `<td>${gpus(w.capabilities.gpus || [])}</td><td class="num">${D.secs(Math.max(0, ago))} ago</td></tr>`;
    }).join("") || '<tr><td colspan="7" class="muted">no live workers</td></tr>';
  }

  async function authed(path) { const r = await fetch(path, { headers: headers() }); if (!r.ok) throw new Error(r.status + " " + (await r.text())); return r; }

  function renderJob(job, changed) {
    for (const t of changed) state.tasks.set(t.attempt + "." + t.seq, t);
    const tasks = [...state.tasks.values()];
    $("job-title").innerHTML = `Job <code>${job.id}</code> ${D.esc(job.name || "")} <span class="state ${job.state}">${job.state}</span> ` +
      `<a href="#" id="report-link">report</a>`;
    $("report-link").onclick = (ev) => { ev.preventDefault(); openReport(job.id); };
    const p = job.progress || {};
    const u = units(p);
    $("job-progress").innerHTML = `${progressCell({ ...job, progress: p })} <span class="muted">${u.done}/${u.total} ${u.name}, ${p.partitions_done || 0}/${p.partitions_total || 0} partitions · ` +
      `${D.count(p.rows_read)} rows, ${D.bytes(p.bytes_read)} read · ${D.count(p.rows_out)} rows out</span>`;
    stream.update(tasks); seen.spansDrawn = stream.view.drawn;
    D.timings($("timings"), tasks);
    D.attempts($("attempts"), job.attempt_log);
    $("job-error").textContent = job.error ? job.error.code + ": " + job.error.message : "";
    $("spec").textContent = JSON.stringify(job.spec, null, 2);
    if (job.state === "succeeded" && state.planFor !== job.id) {
      state.planFor = job.id;
      authed(`/v1/jobs/${job.id}/plan`).then((r) => r.json()).then((g) => D.plan($("plan"), g)).catch((e) => { $("plan").textContent = String(e); });
    }
    if (job.state === "succeeded" && job.result && state.resultFor !== job.id) {
      state.resultFor = job.id; showResult(job);
    }
    if (job.state !== "succeeded") { $("result").innerHTML = '<span class="muted">once it has succeeded</span>'; }
  }

  async function showResult(job) {
    const r = job.result;
    const schema = r.schema.map((c) => `<th>${D.esc(c.name)}<br><span class="muted">${D.esc(c.type)}</span></th>`).join("");
    let rows = [];
    try { rows = await (await authed(`/v1/jobs/${job.id}/result?format=json&limit=20`)).json(); } catch (e) { rows = []; }
    const body = rows.map((row) => "<tr>" + r.schema.map((c) => `<td>${D.esc(D.cell(row[c.name]))}</td>`).join("") + "</tr>").join("");
    $("result").innerHTML = `<p class="muted">${D.count(r.rows)} rows, ${D.bytes(r.bytes)} in ${r.file_count} file(s); the first ${rows.length}:</p>` +
      `<table id="preview"><thead><tr>${schema}</tr></thead><tbody>${body}</tbody></table>`;
  }

  async function openReport(id) {
    const html = await (await authed(`/v1/jobs/${id}/report`)).text();
    const url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
    const a = document.createElement("a"); a.href = url; a.download = `rusk-report-${id}.html`; a.click();
  }

  function select(id) {
    state.job = id; state.tasks = new Map(); state.planFor = null; state.resultFor = null;
    $("plan").innerHTML = '<span class="muted">shown once the job has succeeded</span>';
    history.replaceState(null, "", "#job=" + id); connect();
  }

  function showLogin(why) { $("main").hidden = true; $("login").hidden = false; $("login-error").textContent = why; $("status").textContent = "needs a key"; }

  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault(); state.key = $("key").value.trim(); sessionStorage.setItem("rusk-key", state.key); connect();
  });
  $("jobs").addEventListener("click", (ev) => { const tr = ev.target.closest("tr.job"); if (tr) select(tr.dataset.id); });
  $("filters").addEventListener("click", (ev) => {
    const b = ev.target.closest("button"); if (!b) return;
    for (const o of document.querySelectorAll("#filters button")) o.classList.toggle("on", o === b);
    state.filter = b.dataset.state; connect();
  });
  connect();
})();
