"""The benchmark runner (started by `bench/run`): generates the Dask guide's logs at each size
as CSV and Parquet, starts Rusk, and times every pipeline in Rusk (end to end over HTTP) and in
Polars, DuckDB, pandas and Dask (threads and a distributed LocalCluster) on the same files in
the same run. Then it measures Rusk's job overhead (tiny jobs on SQLite and on Postgres).
Prints the tables and writes them, with every repetition, to bench/results/.

usage: bench/run [--sizes 1M,10M,50M] [--reps 3] [--engines rusk,polars,...]
                 [--pipelines seed_parquet,...] [--tiny 200]
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from engines import ENGINES, PIPELINES, wait_for  # noqa: E402

TITLES = {
    "seed_parquet": "seed groupby, Parquet",
    "seed_csv": "seed groupby, CSV",
    "filter_sort_head": "filter + sort + head(10)",
    "merge_groupby": "merge users + groupby",
    "csv_to_parquet": "CSV → Parquet (64MB files)",
    "groupby_memlimit": "groupby, memory = data/50",
    "top2_per_group": "top 2 per group (100k groups)",
    "join_full": "merge users, whole answer (10M rows)",
    "groupby_six_keys": "groupby six keys (~10M groups)",
}


def size_rows(label):
    units = {"K": 1_000, "M": 1_000_000}
    return int(float(label[:-1]) * units[label[-1].upper()]) if label[-1].isalpha() else int(label)


# --- data ----------------------------------------------------------------------------------

def ensure_data(root, label, files):
    """The logs at one size in both formats; generated once and kept (deterministic by seed)."""
    out = os.path.join(root, label)
    marker = os.path.join(out, "done.json")
    if os.path.exists(marker):
        return out, json.load(open(marker))
    rows = size_rows(label)
    started = time.perf_counter()
    for fmt in ("parquet", "csv"):
        subprocess.run([sys.executable, os.path.join(HERE, "gen_logs.py"), out, "--rows",
                        str(rows), "--files", str(files), "--format", fmt], check=True)
    import pyarrow.parquet as pq
    table = pq.read_table([os.path.join(out, f"large-data-{i}.parquet") for i in range(files)])
    info = {"rows": rows, "files": files, "arrow_bytes": table.nbytes,
            "parquet_bytes": dir_bytes(out, ".parquet"), "csv_bytes": dir_bytes(out, ".csv")}
    json.dump(info, open(marker, "w"))
    print(f"generated {label} in {time.perf_counter() - started:.0f} s: {info}", flush=True)
    return out, info


def dir_bytes(path, suffix):
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path)
               if f.startswith("large-data-") and f.endswith(suffix))


# --- Rusk processes --------------------------------------------------------------------------

class RuskServer:
    def __init__(self, binary, root, port, env=None, args=("serve",)):
        self.dir = tempfile.mkdtemp(prefix="rusk-bench-")
        self.url = f"http://127.0.0.1:{port}"
        full_env = dict(os.environ, RUSK_DATA_ROOT=root, RUSK_DATA_DIR=self.dir,
                        RUSK_LISTEN=f"127.0.0.1:{port}", RUST_LOG="warn")
        full_env.pop("DATABASE_URL", None)
        full_env.update(env or {})
        self.log = open(os.path.join(self.dir, "rusk.log"), "w")
        self.process = subprocess.Popen([binary, *args], env=full_env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/readyz", timeout=1)
                return
            except OSError:
                if self.process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"rusk did not start: {open(self.log.name).read()[-2000:]}")
                time.sleep(0.1)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def seconds_between(start, end):
    """Seconds from one of a job's timestamps to another; None where either is missing."""
    if not start or not end:
        return None
    parse = datetime.datetime.fromisoformat
    return (parse(end) - parse(start)).total_seconds()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- one measurement -------------------------------------------------------------------------

def measure(engine, pipeline, data, a, rusk_url, memory_limit):
    cmd = [sys.executable, os.path.join(HERE, "engines.py"), engine, pipeline, "--data", data,
           "--reps", str(a.reps), "--rusk", rusk_url, "--root", a.data_dir,
           "--memory-limit", str(memory_limit)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {a.timeout} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-300:]}"}
    result = json.loads(lines[-1])
    if "times" in result:
        result["median"] = statistics.median(result["times"])
    return result


def run_size(a, label, binary, main_url):
    data, info = ensure_data(a.data_dir, label, a.files)
    results = {}
    for pipeline in a.pipelines:
        limit = info["arrow_bytes"] // 50 if pipeline == "groupby_memlimit" else 0
        limited = None
        url = main_url
        if limit and "rusk" in a.engines:
            limited = RuskServer(binary, a.data_dir, free_port(),
                                 {"RUSK_MEMORY_LIMIT": str(limit)})
            url = limited.url
        try:
            for engine in a.engines:
                result = measure(engine, pipeline, data, a, url, limit)
                results.setdefault(pipeline, {})[engine] = result
                print(f"  {label:>4} {pipeline:18s} {engine:17s} {describe(result)}", flush=True)
        finally:
            if limited:
                limited.stop()
        if limit:
            results[pipeline]["memory_limit"] = limit
        warn_disagreement(pipeline, results[pipeline])
    return {"data": info, "results": results}


def describe(result):
    if "median" in result:
        times = ", ".join(f"{t:.3f}" for t in result["times"])
        return f"{result['median']:7.3f} s  [{times}]  rows={result['rows']} check={result['check']}"
    return result.get("error") or f"skipped: {result.get('skipped')}"


def warn_disagreement(pipeline, by_engine):
    """Every engine must return the same number of rows (and the same check sum)."""
    answers = {e: (r["rows"], r["check"] if pipeline != "csv_to_parquet" else None)
               for e, r in by_engine.items() if isinstance(r, dict) and "rows" in r}
    if len(set(answers.values())) > 1:
        print(f"  WARNING: engines disagree on {pipeline}: {answers}", flush=True)


# --- job overhead ------------------------------------------------------------------------------

TINY = json.dumps({"name": "tiny", "sources": {"t": {"format": "csv", "path": "tiny.csv"}},
                   "sql": "SELECT a, b FROM t", "output": {"format": "arrow"}})


def tiny_latency(url, count):
    """Submit one tiny job, follow its events until it has succeeded, repeat: the overhead a
    caller sees."""
    conn = http.client.HTTPConnection(url.split("//")[1])
    client, server = [], []
    for _ in range(count):
        start = time.perf_counter()
        conn.request("POST", "/v1/jobs", TINY, {"content-type": "application/json"})
        job = wait_for(conn, json.loads(conn.getresponse().read()))
        client.append(time.perf_counter() - start)
        assert job["state"] == "succeeded", job
        server.append((datetime.datetime.fromisoformat(job["finished_at"])
                       - datetime.datetime.fromisoformat(job["created_at"])).total_seconds())
    return client, server


def tiny_throughput(url, count, threads=8):
    """`count` tiny jobs submitted from several threads; jobs per second until all have ended."""
    ids, lock = [], threading.Lock()

    def submit(n):
        conn = http.client.HTTPConnection(url.split("//")[1])
        for _ in range(n):
            conn.request("POST", "/v1/jobs", TINY, {"content-type": "application/json"})
            job = json.loads(conn.getresponse().read())
            with lock:
                ids.append(job["id"])

    start = time.perf_counter()
    workers = [threading.Thread(target=submit, args=(count // threads,)) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    conn = http.client.HTTPConnection(url.split("//")[1])
    for state in ("queued", "running"):
        while True:
            conn.request("GET", f"/v1/jobs?state={state}&limit=1")
            if not json.loads(conn.getresponse().read())["jobs"]:
                break
            time.sleep(0.02)
    return len(ids) / (time.perf_counter() - start)


def overhead(a, binary):
    with open(os.path.join(a.data_dir, "tiny.csv"), "w") as f:
        f.write("a,b\n1,x\n2,y\n3,z\n")
    stores = [("SQLite", {})]
    postgres = postgres_database(a.postgres)
    if postgres:
        stores.append(("Postgres", {"DATABASE_URL": postgres}))
    else:
        print(f"  NOTE: no Postgres at {a.postgres}; job overhead measured on SQLite only")
    figures = {}
    for name, env in stores:
        server = RuskServer(binary, a.data_dir, free_port(), env)
        try:
            tiny_latency(server.url, 10)  # warm-up
            client, server_side = tiny_latency(server.url, a.tiny)
            rate = tiny_throughput(server.url, a.tiny * 5)
        finally:
            server.stop()
        q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000
        figures[name] = {"jobs": a.tiny, "client_p50_ms": q(client, 0.5),
                         "client_p99_ms": q(client, 0.99), "server_p50_ms": q(server_side, 0.5),
                         "server_p99_ms": q(server_side, 0.99), "jobs_per_s": rate}
        print(f"  tiny jobs on {name}: " + ", ".join(
            f"{k} {v:.1f}" for k, v in figures[name].items()), flush=True)
    return figures


def postgres_database(url):
    """A fresh database `rusk_bench` on the Postgres at `url`, or None when none answers."""
    if not url or not shutil.which("psql"):
        return None
    base = url.rsplit("/", 1)[0]
    for sql in ("DROP DATABASE IF EXISTS rusk_bench WITH (FORCE)", "CREATE DATABASE rusk_bench"):
        if subprocess.run(["psql", url, "-qc", sql], capture_output=True).returncode != 0:
            return None
    return f"{base}/rusk_bench"


# --- report ---------------------------------------------------------------------------------

def cell(result, base):
    if "skipped" in result:
        return f"n/a ({result['skipped']})"
    if "median" not in result:
        error = result.get("error", "")
        for needle, short in (("OutOfMemory", "out of memory"), ("timed out", "timed out"),
                              ("KilledWorker", "workers killed")):
            if needle in error:
                return f"failed: {short}"
        return "failed"
    text = f"{result['median']:.2f} s"
    if base and base is not result:
        text += f" ({result['median'] / base['median']:.1f}×)"
    return text


# Engines that run the memory-limited groupby with no way to cap their memory.
UNCAPPED = {"polars": "streaming engine", "dask_threads": "threads scheduler"}


def uncapped(pipeline, engine):
    return f" — no cap ({UNCAPPED[engine]})" if pipeline == "groupby_memlimit" and engine in UNCAPPED else ""


def report(a, sizes, figures, versions):
    lines = [f"Machine: {machine()}", f"Versions: {versions}",
             f"Median of {a.reps} runs after a warm-up; (n×) = that engine's time / Rusk's "
             "(above 1: slower than Rusk).", ""]
    for label, size in sizes.items():
        info = size["data"]
        lines += [f"### {label} rows ({info['files']} files; Parquet "
                  f"{info['parquet_bytes'] / 1e6:.0f} MB, CSV {info['csv_bytes'] / 1e6:.0f} MB, "
                  f"{info['arrow_bytes'] / 1e6:.0f} MB in memory)", "",
                  "| pipeline | " + " | ".join(a.engines) + " |",
                  "|---|" + "---|" * len(a.engines)]
        for pipeline, by_engine in size["results"].items():
            base = by_engine.get("rusk")
            base = base if base and "median" in base else None
            row = [cell(by_engine[e], base) + uncapped(pipeline, e) for e in a.engines]
            lines.append(f"| {TITLES[pipeline]} | " + " | ".join(row) + " |")
        lines.append("")
    if figures:
        lines += ["### Job overhead (tiny jobs: a 3-row CSV, submit → succeeded)", "",
                  "| store | client p50 | client p99 | server p50 | server p99 | jobs/s |",
                  "|---|---|---|---|---|---|"]
        for name, f in figures.items():
            lines.append(f"| {name} | {f['client_p50_ms']:.1f} ms | {f['client_p99_ms']:.1f} ms | "
                         f"{f['server_p50_ms']:.1f} ms | {f['server_p99_ms']:.1f} ms | "
                         f"{f['jobs_per_s']:.0f} |")
    return "\n".join(lines) + "\n"


def machine():
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), platform.processor())
    memory = next(int(line.split()[1]) for line in open("/proc/meminfo")
                  if line.startswith("MemTotal")) / 1024 / 1024
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, {platform.platform()}"


def versions():
    found = {}
    for module in ("polars", "duckdb", "pandas", "dask", "pyarrow", "datafusion"):
        try:
            found[module] = __import__(module).__version__
        except ImportError:
            found[module] = "missing"
    return ", ".join(f"{k} {v}" for k, v in found.items())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rusk-bin", required=True)
    p.add_argument("--sizes", default="1M,10M,50M")
    p.add_argument("--files", type=int, default=8)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--engines", default=",".join(ENGINES))
    p.add_argument("--pipelines", default=",".join(PIPELINES))
    p.add_argument("--tiny", type=int, default=200, help="tiny jobs per store; 0 skips")
    p.add_argument("--timeout", type=int, default=300, help="seconds for one engine's runs")
    p.add_argument("--data-dir", default=os.path.expanduser("~/.cache/rusk-bench/data"))
    p.add_argument("--postgres", default=os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    a = p.parse_args()
    a.engines = a.engines.split(",")
    a.pipelines = [x for x in a.pipelines.split(",") if x]
    a.data_dir = os.path.abspath(a.data_dir)
    os.makedirs(a.data_dir, exist_ok=True)
    print(f"machine: {machine()}\nversions: {versions()}", flush=True)
    sizes, figures = {}, {}
    main_server = RuskServer(a.rusk_bin, a.data_dir, free_port()) if "rusk" in a.engines else None
    try:
        url = main_server.url if main_server else ""
        for label in a.sizes.split(","):
            if label:
                sizes[label] = run_size(a, label, a.rusk_bin, url)
    finally:
        if main_server:
            main_server.stop()
    if a.tiny:
        figures = overhead(a, a.rusk_bin)
    table = report(a, sizes, figures, versions())
    print("\n" + table)
    os.makedirs(a.out, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(a.out, f"{stamp}.md"), "w") as f:
        f.write(table)
    with open(os.path.join(a.out, f"{stamp}.json"), "w") as f:
        json.dump({"sizes": sizes, "overhead": figures, "machine": machine(),
                   "versions": versions(), "reps": a.reps}, f, indent=1)
    print(f"written to {a.out}/{stamp}.md and .json")


if __name__ == "__main__":
    main()
