// A report: the job's data is inlined above; nothing is fetched.
"use strict";
(() => {
  const D = RuskDraw, $ = (id) => document.getElementById(id);
  const data = JSON.parse($("report-data").textContent);
  const job = data.job, tasks = data.tasks;
  $("job-title").innerHTML = `Job <code>${job.id}</code> ${D.esc(job.name || "")} <span class="state ${job.state}">${job.state}</span>`;
  $("status").textContent = "made " + data.made_at;
  const took = job.started_at && job.finished_at ? (Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000 : null;
  const p = job.progress || {};
  $("summary").innerHTML = `<p>${took != null ? "ran " + D.secs(took) + " · " : ""}${p.partitions_done || 0}/${p.partitions_total || 0} partitions · ` +
    `${D.count(p.rows_read)} rows, ${D.bytes(p.bytes_read)} read · ${D.count(p.rows_out)} rows out · ${tasks.length} spans` +
    `${job.result ? " · result " + D.count(job.result.rows) + " rows, " + D.bytes(job.result.bytes) : ""}</p>`;
  const stream = D.taskStream($("stream"), $("tip"), $("legend"));
  stream.update(tasks);
  window.ruskReport = { spansDrawn: stream.view.drawn };
  D.plan($("plan"), data.plan);
  D.timings($("timings"), tasks);
  D.attempts($("attempts"), job.attempt_log);
  $("job-error").textContent = job.error ? job.error.code + ": " + job.error.message : "";
  $("spec").textContent = JSON.stringify(job.spec, null, 2);
})();
