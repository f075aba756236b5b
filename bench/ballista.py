"""What the `ballista` engine costs and buys, measured on one machine. On one machine a
cluster cannot be faster than one process, so this measures what matters for planning:

1. Per-job overhead: a tiny group-by (one 1000-row CSV) submitted N times, one after the
   other, on each engine, end to end over HTTP (submit → succeeded → the result as JSON).
2. A shuffle bigger than one executor's memory: a high-cardinality group-by (by user_id, with
   about as many users as rows, so millions of groups) on the local engine with
   RUSK_MEMORY_LIMIT = LIMIT (it must spill) and on two executors of LIMIT each.

It starts a `rusk scheduler`, two `rusk executor`s and one `rusk serve` (all the same binary,
each with a temporary data directory), prints a Markdown table and writes a JSON report to
bench/results/ballista-<UTC timestamp>.json. Every child process is stopped on exit.

usage: python bench/ballista.py --rusk-bin PATH [--jobs 30] [--rows 5000000] [--files 4]
                                [--users ROWS] [--limit 128MB] [--slots 1] [--executors 2]
"""
import argparse
import datetime
import http.client
import json
import math
import re
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from engines import AGG  # noqa: E402
from run import RuskServer, free_port, machine, seconds_between  # noqa: E402

TERMINAL = ("succeeded", "failed", "cancelled")
CHILDREN = []  # everything started, stopped in reverse order on exit


# --- processes ------------------------------------------------------------------------------

class Child:
    """One `rusk` process (scheduler or executor) with a temporary directory for its data and
    its log."""

    def __init__(self, name, binary, args, env):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"rusk-ballista-{name}-")
        full_env = dict(os.environ, RUSK_LOG="warn", RUSK_DATA_DIR=self.dir)
        full_env.pop("DATABASE_URL", None)
        full_env.update(env)
        self.log = open(os.path.join(self.dir, f"{name}.log"), "w")
        self.process = subprocess.Popen([binary, *args], env=full_env, cwd=self.dir,
                                        stdout=self.log, stderr=subprocess.STDOUT)

    def log_tail(self, chars=2000):
        try:
            return open(self.log.name, errors="replace").read()[-chars:]
        except OSError:
            return ""

    def stop(self):
        stop_process(self.process)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def stop_process(process):
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def start_server(binary, root, env):
    """run.RuskServer, registered for clean-up before it starts (its constructor raises when
    the server does not come up, and the process must still be stopped)."""
    server = RuskServer.__new__(RuskServer)
    CHILDREN.append(server)
    server.__init__(binary, root, free_port(), env)
    return server


def stop_all():
    while CHILDREN:
        child = CHILDREN.pop()
        try:
            if isinstance(child, RuskServer):
                if getattr(child, "process", None) is not None:
                    child.stop()
                elif getattr(child, "dir", None):
                    shutil.rmtree(child.dir, ignore_errors=True)
            else:
                child.stop()
        except Exception as error:  # keep stopping the others
            print(f"  cannot stop a child: {error!r}", file=sys.stderr)


def start_cluster(binary, root, executors, slots, limit, timeout=120):
    port = free_port()
    scheduler = Child("scheduler", binary,
                      ["scheduler", "--listen", f"127.0.0.1:{port}", "--external-host",
                       "127.0.0.1", "--executor-timeout-s", "10"], {})
    CHILDREN.append(scheduler)
    url = f"df://127.0.0.1:{port}"
    started = []
    for i in range(executors):
        executor = Child(f"executor{i}", binary,
                         ["executor", "--listen", f"127.0.0.1:{free_port()}", "--grpc-port",
                          str(free_port()), "--external-host", "127.0.0.1", "--slots",
                          str(slots), "--heartbeat-s", "1"],
                         {"RUSK_BALLISTA_URL": url, "RUSK_MEMORY_LIMIT": limit,
                          "RUSK_DATA_ROOT": root})
        CHILDREN.append(executor)
        started.append(executor)
    rest = f"http://127.0.0.1:{port}/api/executors"
    deadline = time.time() + timeout
    while True:
        try:
            alive = json.loads(urllib.request.urlopen(rest, timeout=2).read())
            if isinstance(alive, list) and len(alive) == executors:
                return url, scheduler, started
        except (OSError, ValueError):
            pass
        for child in [scheduler, *started]:
            if child.process.poll() is not None:
                raise RuntimeError(f"{child.name} exited ({child.process.returncode}): "
                                   f"{child.log_tail()}")
        if time.time() > deadline:
            raise RuntimeError(f"the cluster did not come up with {executors} executors in "
                               f"{timeout} s; scheduler log: {scheduler.log_tail()}")
        time.sleep(0.2)


# --- HTTP -----------------------------------------------------------------------------------

class Api:
    """Rusk's API over one kept-alive connection (reopened after an error)."""

    def __init__(self, url, timeout=600):
        self.host = url.split("//")[1]
        self.timeout = timeout
        self.conn = None

    def call(self, method, path, body=None):
        headers = {"content-type": "application/json"} if body is not None else {}
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, timeout=self.timeout)
            try:
                self.conn.request(method, path, body, headers)
                response = self.conn.getresponse()
                payload = response.read()
                break
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:2000]!r}")
        return payload

    def json(self, method, path, body=None):
        return json.loads(self.call(method, path, body))

    def run(self, spec, poll=0.005, deadline_s=None, on_poll=None):
        """Submits `spec` and polls until the job has ended; the final job JSON."""
        job = self.json("POST", "/v1/jobs", json.dumps(spec))
        end = time.time() + deadline_s if deadline_s else None
        while job["state"] not in TERMINAL:
            if end and time.time() > end:
                job["client_timeout"] = f"still {job['state']} after {deadline_s} s"
                return job
            time.sleep(poll)
            job = self.json("GET", f"/v1/jobs/{job['id']}")
            if on_poll:
                on_poll(job)
        return job



def quantile(xs, p):
    """Nearest rank."""
    xs = sorted(xs)
    return xs[max(0, min(len(xs) - 1, math.ceil(p * len(xs)) - 1))]


# --- data -----------------------------------------------------------------------------------

def tiny_csv(root, rows=1000):
    path = os.path.join(root, f"tiny-{rows}.csv")
    if not os.path.exists(path):
        with open(path + ".tmp", "w") as f:
            f.write("g,x,y\n")
            for i in range(rows):
                f.write(f"{i % 10},{i},{(i * 7919) % 1000 / 10}\n")
        os.replace(path + ".tmp", path)
    return os.path.basename(path)


def ensure_logs(root, rows, files, users):
    """The logs as Parquet, generated once per (rows, files, users) and kept."""
    label = f"logs-{rows}-{files}-{users}"
    out = os.path.join(root, label)
    marker = os.path.join(out, "done.json")
    if os.path.exists(marker):
        return label, json.load(open(marker))
    started = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(HERE, "gen_logs.py"), out, "--rows", str(rows),
                    "--files", str(files), "--users", str(users), "--format", "parquet"],
                   check=True)
    import pyarrow.parquet as pq
    import pyarrow.compute as pc
    paths = [os.path.join(out, f"large-data-{i}.parquet") for i in range(files)]
    table = pq.read_table(paths, columns=["user_id"])
    info = {"rows": rows, "files": files, "users": users,
            "distinct_user_ids": pc.count_distinct(table["user_id"]).as_py(),
            "parquet_bytes": sum(os.path.getsize(p) for p in paths),
            "arrow_bytes": pq.read_table(paths).nbytes}
    json.dump(info, open(marker, "w"))
    print(f"generated {label} in {time.perf_counter() - started:.0f} s: {info}", flush=True)
    return label, info


# --- 1. per-job overhead --------------------------------------------------------------------

def tiny_spec(path, engine):
    return {"name": f"tiny-{engine}", "engine": engine, "max_attempts": 1,
            "sources": {"t": {"format": "csv", "path": path}},
            "steps": [{"op": "groupby", "by": ["g"], "agg": {"x": "sum", "y": "mean"}}]}


def tiny_jobs(api, path, engine, count, warmup=2):
    """`count` tiny jobs, one after the other: submit → succeeded → GET the result as JSON."""
    spec = tiny_spec(path, engine)
    client, queued, running, stages = [], [], [], set()
    for i in range(warmup + count):
        start = time.perf_counter()
        try:
            job = api.run(spec, deadline_s=120)
        except RuntimeError as error:  # refused at submission
            return {"error": str(error), "done": len(client)}
        if job["state"] != "succeeded":
            return {"error": job.get("error"), "state": job["state"], "job": job["id"],
                    "client_timeout": job.get("client_timeout"), "done": len(client)}
        rows = api.json("GET", f"/v1/jobs/{job['id']}/result?format=json")
        elapsed = time.perf_counter() - start
        if len(rows) != 10:
            return {"error": f"expected 10 rows, got {len(rows)}: {rows!r}"[:500]}
        if i < warmup:
            continue
        client.append(elapsed)
        queued.append(seconds_between(job["created_at"], job["started_at"]))
        running.append(seconds_between(job["started_at"], job["finished_at"]))
        stages.add((job.get("progress") or {}).get("stages_total"))
    return {"jobs": count, "warmup": warmup, "times": client,
            "median_s": statistics.median(client), "p90_s": quantile(client, 0.9),
            "min_s": min(client), "max_s": max(client),
            "server_queued_median_s": statistics.median(queued),
            "server_running_median_s": statistics.median(running),
            "stages_total": sorted(s for s in stages if s is not None)}


# --- 2. a shuffle bigger than one executor's memory ------------------------------------------

def big_spec(label, engine, timeout_s):
    return {"name": f"groupby-users-{engine}", "engine": engine, "max_attempts": 1,
            "timeout_s": timeout_s,
            "sources": {"logs": {"format": "parquet", "path": f"{label}/large-data-*.parquet"}},
            "input": "logs",
            "steps": [{"op": "assign",
                       "columns": {"total_spend": "subscription_cost + add_on_cost"}},
                      {"op": "groupby", "by": ["user_id"], "agg": AGG}]}


def tree_bytes(path):
    total = 0
    for top, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(top, name))
            except OSError:
                pass  # removed while walking
    return total


class DiskWatch:
    """The most bytes seen at once under each directory while a job runs (sampled)."""

    def __init__(self, dirs, every=0.25):
        self.dirs, self.every = dirs, every
        self.peak = {name: 0 for name in dirs}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stopped.is_set():
            for name, path in self.dirs.items():
                self.peak[name] = max(self.peak[name], tree_bytes(path))
            self.stopped.wait(self.every)

    def stop(self):
        self.stopped.set()
        self.thread.join()
        return self.peak


def spills(api, job_id):
    """The job's task spans, summed: spill count and bytes, and the largest memory peak."""
    figures = {"spill_count": 0, "spilled_bytes": 0, "max_memory_peak": 0, "spans": 0,
               "operators": set()}
    cursor = None
    try:
        while True:
            page = api.json("GET", f"/v1/jobs/{job_id}/tasks?limit=1000"
                            + (f"&cursor={cursor}" if cursor else ""))
            for task in page["tasks"]:
                figures["spans"] += 1
                figures["spill_count"] += task.get("spill_count") or 0
                figures["spilled_bytes"] += task.get("spilled_bytes") or 0
                figures["max_memory_peak"] = max(figures["max_memory_peak"],
                                                 task.get("memory_peak") or 0)
                figures["operators"].add(task.get("operator"))
            cursor = page.get("next_cursor")
            if not cursor:
                break
    except Exception as error:
        figures["error"] = repr(error)
    figures["operators"] = sorted(o for o in figures["operators"] if o)
    return figures


def scheduler_jobs(rest):
    try:
        jobs = json.loads(urllib.request.urlopen(f"{rest}/api/jobs", timeout=5).read())
        return {j["job_id"]: j for j in jobs} if isinstance(jobs, list) else {}
    except (OSError, ValueError):
        return {}


def scheduler_stages(rest, before):
    """The Ballista job(s) the scheduler got since `before` (its job ids then), each with its
    stages: rows, tasks, and the spills its stage plans' metrics show (summed over tasks)."""
    found = []
    for job_id, job in scheduler_jobs(rest).items():
        if job_id in before:
            continue
        entry = {"job_id": job_id, "status": job.get("status"),
                 "num_stages": job.get("num_stages"), "stages": []}
        try:
            stages = json.loads(urllib.request.urlopen(
                f"{rest}/api/job/{job_id}/stages?plan_format=metrics", timeout=10).read())
        except (OSError, ValueError) as error:
            entry["error"] = repr(error)
            found.append(entry)
            continue
        for stage in stages.get("stages", []):
            plan = stage.get("stage_plan") or ""
            entry["stages"].append({
                "stage_id": stage.get("stage_id"), "status": stage.get("stage_status"),
                "input_rows": stage.get("input_rows"), "output_rows": stage.get("output_rows"),
                "elapsed_compute": stage.get("elapsed_compute"),
                "tasks": len(stage.get("tasks") or []),
                "spill_count": sum(int(n) for n in re.findall(r"spill_count=(\d+)", plan)),
                # operators say spilled_bytes, the shuffle writer spill_bytes
                "spilled_bytes": [b for b in re.findall(r"spill(?:ed)?_bytes=([0-9.]+ ?[A-Za-z]*)",
                                                        plan) if float(re.match(r"[0-9.]*", b).group() or 0) > 0]
                or ["0"],
                "peak_mem_used": re.findall(r"peak_mem_used=([0-9.]+ ?[A-Za-z]*)", plan),
                "plan": plan})
        found.append(entry)
    return found


def check_sum(api, job_id):
    """Rows and the sum of total_spend of the whole result (fetched as Arrow), so that the
    two engines' answers can be compared; None without pyarrow."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    start = time.perf_counter()
    table = pa.ipc.open_stream(
        api.call("GET", f"/v1/jobs/{job_id}/result?format=arrow")).read_all()
    return {"rows": table.num_rows,
            "total_spend_sum": round(pc.sum(table["total_spend"]).as_py(), 0),
            "fetch_s": time.perf_counter() - start}


def big_job(api, label, engine, watch_dirs, timeout_s, rest):
    spec = big_spec(label, engine, timeout_s)
    before = scheduler_jobs(rest)
    watch = DiskWatch(watch_dirs)
    seen = {"stages_total": 0}

    def on_poll(job):
        seen["stages_total"] = max(seen["stages_total"],
                                   (job.get("progress") or {}).get("stages_total") or 0)

    start = time.perf_counter()
    try:
        job = api.run(spec, poll=0.1, deadline_s=timeout_s + 30, on_poll=on_poll)
    except RuntimeError as error:  # refused at submission
        return {"engine": engine, "state": "refused", "error": str(error),
                "wall_s": time.perf_counter() - start, "stages_total": 0,
                "disk_peak_bytes": watch.stop(), "tasks": {"error": "no job"}}
    finally:
        peak = watch.stop()
    wall = time.perf_counter() - start
    progress = job.get("progress") or {}
    out = {"engine": engine, "state": job["state"], "job": job["id"], "wall_s": wall,
           "server_running_s": seconds_between(job.get("started_at"), job.get("finished_at")),
           "attempts": job.get("attempts"), "progress": progress,
           "stages_total": max(seen["stages_total"], progress.get("stages_total") or 0),
           "disk_peak_bytes": peak, "tasks": spills(api, job["id"])}
    if engine == "ballista":
        out["scheduler"] = scheduler_stages(rest, before)
    if job["state"] == "succeeded":
        out["result_rows"] = job["result"]["rows"]
        try:
            out["check"] = check_sum(api, job["id"])
        except Exception as error:
            out["check"] = {"error": repr(error)}
    else:
        out["error"] = job.get("error")
        out["client_timeout"] = job.get("client_timeout")
        try:
            out["attempt_log"] = api.json("GET", f"/v1/jobs/{job['id']}").get("attempt_log")
        except Exception as error:
            out["attempt_log"] = repr(error)
    return out


# --- report ---------------------------------------------------------------------------------

def mb(n):
    return f"{n / 1e6:.0f} MB"


def report(a, info, overhead, big):
    lines = [f"Machine: {a.machine}", f"Binary: {a.rusk_bin}" + (
             " (a debug build: figures indicative only)" if "debug" in a.rusk_bin else ""),
             f"Load average at start: {a.load_start}", ""]
    lines += [f"### Per-job overhead ({a.jobs} tiny jobs per engine, one after the other: "
              "a group-by of a 1000-row CSV, submit → succeeded → result as JSON)", "",
              "| engine | median | p90 | min | max | server: queued (median) | "
              "server: running (median) | stages |", "|---|---|---|---|---|---|---|---|"]
    for engine in ("local", "ballista"):
        r = overhead.get(engine, {})
        if "median_s" in r:
            lines.append(f"| {engine} | {r['median_s']:.3f} s | {r['p90_s']:.3f} s | "
                         f"{r['min_s']:.3f} s | {r['max_s']:.3f} s | "
                         f"{r['server_queued_median_s']:.3f} s | "
                         f"{r['server_running_median_s']:.3f} s | "
                         f"{', '.join(map(str, r['stages_total'])) or '-'} |")
        else:
            lines.append(f"| {engine} | failed: {json.dumps(r.get('error'))} | | | | | | |")
    if "median_s" in overhead.get("local", {}) and "median_s" in overhead.get("ballista", {}):
        d = overhead["difference"]
        lines.append(f"| **ballista − local** | **{d['median_s']:+.3f} s** | "
                     f"**{d['p90_s']:+.3f} s** | | | | | |")
    lines.append("")
    if big:
        lines += [f"### Group-by of {info['rows']:,} rows by user_id ({info['distinct_user_ids']:,}"
                  f" groups; {info['files']} Parquet files, {mb(info['parquet_bytes'])} on "
                  f"disk, {mb(info['arrow_bytes'])} in memory), memory limit {a.limit} per "
                  "process", "",
                  "| engine | processes × limit | state | wall | stages | result rows | "
                  "sum(total_spend) | spills (task spans) | peak on disk |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in big:
            who = (f"1 × {a.limit} (rusk serve)" if r["engine"] == "local"
                   else f"{a.executors} executors × {a.limit}, {a.slots} slot(s) each")
            tasks = r["tasks"]
            spill = (f"{tasks['spill_count']} spills, {mb(tasks['spilled_bytes'])}"
                     if "error" not in tasks else "n/a")
            if r["engine"] == "ballista":
                stages = [st for j in r.get("scheduler") or [] for st in j["stages"]]
                spill = (f"{sum(st['spill_count'] for st in stages)} spills "
                         + "(" + "; ".join(f"stage {st['stage_id']}: {st['tasks']} tasks, "
                                           f"spilled {'+'.join(st['spilled_bytes']) or '0'}"
                                           for st in stages) + ")") if stages else "n/a"
            disk = ", ".join(f"{k} {mb(v)}" for k, v in r["disk_peak_bytes"].items())
            check = r.get("check") or {}
            state = r["state"] if r["state"] == "succeeded" else (
                f"{r['state']}: {json.dumps(r.get('error'))}"
                + (f" ({r['client_timeout']})" if r.get("client_timeout") else ""))
            lines.append(f"| {r['engine']} | {who} | {state} | {r['wall_s']:.1f} s | "
                         f"{r['stages_total'] or '-'} | {r.get('result_rows', '-')} | "
                         f"{check.get('total_spend_sum', '-')} | {spill} | {disk} |")
        lines.append("")
        lines.append("Wall: submit → succeeded over HTTP (the result's download is not in it). "
                     "Peak on disk: most bytes seen at once (sampled every 0.25 s) under Rusk's "
                     "spill/ and each executor's ballista/ (shuffle and spill files). Spills: local, "
                     "from the job's task spans; ballista, from the scheduler's stage metrics "
                     "(`/api/job/{id}/stages?plan_format=metrics`).")
    return "\n".join(lines) + "\n"


# --- main -----------------------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rusk-bin", required=True)
    p.add_argument("--jobs", type=int, default=30, help="tiny jobs per engine; 0 skips")
    p.add_argument("--rows", type=int, default=5_000_000,
                   help="rows of the group-by's logs; 0 skips the group-by")
    p.add_argument("--files", type=int, default=4)
    p.add_argument("--users", type=int, default=0,
                   help="distinct user ids drawn from (default: as many as rows)")
    p.add_argument("--limit", default="128MB",
                   help="RUSK_MEMORY_LIMIT of each executor and of the local engine")
    p.add_argument("--slots", type=int, default=1, help="task slots per executor")
    p.add_argument("--executors", type=int, default=2)
    p.add_argument("--timeout", type=int, default=180, help="seconds for one big job")
    p.add_argument("--data-dir", default=os.path.expanduser("~/.cache/rusk-bench/ballista"))
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    a = p.parse_args()
    a.rusk_bin = os.path.abspath(a.rusk_bin)
    a.users = a.users or a.rows
    a.data_dir = os.path.abspath(a.data_dir)
    a.machine = machine()
    a.load_start = " ".join(open("/proc/loadavg").read().split()[:3])
    os.makedirs(a.data_dir, exist_ok=True)
    print(f"machine: {a.machine}\nbinary: {a.rusk_bin}\nload: {a.load_start}", flush=True)

    tiny = tiny_csv(a.data_dir)
    label, info = ensure_logs(a.data_dir, a.rows, a.files, a.users) if a.rows else (None, None)

    overhead, big = {}, []
    started = time.perf_counter()
    cluster_url, scheduler, executors = start_cluster(a.rusk_bin, a.data_dir, a.executors,
                                                      a.slots, a.limit)
    print(f"cluster up: scheduler at {cluster_url}, {a.executors} executors "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    server = start_server(a.rusk_bin, a.data_dir,
                          {"RUSK_BALLISTA_URL": cluster_url, "RUSK_MEMORY_LIMIT": a.limit,
                           "RUSK_SLOTS": "1", "RUSK_LOG": "warn"})
    api = Api(server.url)

    if a.jobs:
        for engine in ("local", "ballista"):
            overhead[engine] = tiny_jobs(api, tiny, engine, a.jobs)
            r = overhead[engine]
            print(f"  tiny jobs on {engine}: " + (
                f"median {r['median_s']:.3f} s, p90 {r['p90_s']:.3f} s" if "median_s" in r
                else f"FAILED {json.dumps(r)}"), flush=True)
        if all("median_s" in overhead[e] for e in ("local", "ballista")):
            overhead["difference"] = {
                k: overhead["ballista"][k] - overhead["local"][k] for k in ("median_s", "p90_s")}

    if label:
        watch = {"rusk spill/": os.path.join(server.dir, "spill")}
        watch.update({f"{e.name} ballista/": os.path.join(e.dir, "ballista") for e in executors})
        rest = "http://" + cluster_url.split("//")[1]
        for engine in ("local", "ballista"):
            r = big_job(api, label, engine, watch, a.timeout, rest)
            big.append(r)
            print(f"  group-by on {engine}: {r['state']} in {r['wall_s']:.1f} s, "
                  f"rows {r.get('result_rows')}, stages {r['stages_total']}, "
                  f"check {r.get('check')}, tasks {r['tasks']}, disk {r['disk_peak_bytes']}"
                  + "".join(f"\n    ballista job {j['job_id']} {j['status']}: " + "; ".join(
                      f"stage {st['stage_id']} {st['status']} tasks={st['tasks']} "
                      f"rows {st['input_rows']}->{st['output_rows']} "
                      f"spills={st['spill_count']} {st['spilled_bytes']} "
                      f"peak_mem={st['peak_mem_used']}" for st in j["stages"])
                      for j in r.get("scheduler") or [])
                  + (f"\n    error: {json.dumps(r.get('error'))} {r.get('client_timeout') or ''}"
                     if r["state"] != "succeeded" else ""), flush=True)
            if r["state"] != "succeeded":
                r["logs"] = {c.name: c.log_tail() for c in [scheduler, *executors]}
                r["logs"]["rusk"] = open(server.log.name, errors="replace").read()[-2000:]
        answers = {(r.get("check") or {}).get("total_spend_sum") for r in big}
        if len(big) == 2 and all(r["state"] == "succeeded" for r in big) and (
                len({r["result_rows"] for r in big}) > 1 or len(answers) > 1):
            print("  WARNING: the engines' answers differ", flush=True)

    table = report(a, info, overhead, big)
    print("\n" + table)
    os.makedirs(a.out, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%SZ")
    path = os.path.join(a.out, f"ballista-{stamp}.json")
    with open(path, "w") as f:
        json.dump({"machine": a.machine, "cores": os.cpu_count(), "binary": a.rusk_bin,
                   "debug_build": "debug" in a.rusk_bin,
                   "note": "'debug' in the binary path means a debug build (dependencies "
                           "optimised): figures indicative only",
                   "load_average_start": a.load_start,
                   "load_average_end": " ".join(open("/proc/loadavg").read().split()[:3]),
                   "args": {k: getattr(a, k) for k in ("jobs", "rows", "files", "users", "limit",
                                                        "slots", "executors", "timeout")},
                   "data": info, "overhead": overhead, "groupby": big, "table": table},
                  f, indent=1, default=str)
    print(f"written to {path}")


def on_term(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    finally:
        stop_all()
