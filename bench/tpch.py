"""TPC-H: the 22 queries (bench/tpch/queries/) as Rusk `sql` jobs over HTTP, each answer checked
against DuckDB's, timed against DuckDB, DataFusion (its Python bindings) and Polars (its SQL
context) in process, on the same Parquet files, in one run.

usage: bench/tpch [--sf 1] [--reps 3] [--queries 1,6,...] [--engines rusk,duckdb,datafusion,polars]
Data: `tpchgen-cli parquet -s SF` into ~/.cache/rusk-bench/tpch/sfSF (generated once).
Prints one line per query and engine, then a Markdown table; writes it (and the figures as
JSON) to bench/results/tpch-sfSF-<time>.{md,json}.
"""

import argparse
import datetime
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pyarrow as pa

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from engines import wait_for  # noqa: E402
from run import RuskServer, free_port, machine, seconds_between, versions  # noqa: E402

TABLES = ["lineitem", "orders", "customer", "part", "partsupp", "supplier", "nation", "region"]
ENGINES = ["rusk", "duckdb", "datafusion", "polars"]


def ensure_data(root, sf):
    out = os.path.join(root, f"sf{sf}")
    if all(os.path.exists(os.path.join(out, f"{t}.parquet")) for t in TABLES):
        return out
    started = time.perf_counter()
    generator = os.path.join(os.path.dirname(sys.executable), "tpchgen-cli")
    subprocess.run([generator, "parquet", "-s", str(sf), f"--output-dir={out}"], check=True)
    print(f"generated SF{sf} in {time.perf_counter() - started:.0f} s", flush=True)
    return out


def query(n):
    with open(os.path.join(HERE, "tpch", "queries", f"q{n:02d}.sql")) as f:
        return f.read().strip()


# --- engines: each returns a function running one query and giving its answer as Arrow ------

def rusk_engine(url, rel, poll=None):
    sources = {t: {"format": "parquet", "path": f"{rel}/{t}.parquet"} for t in TABLES}

    host = urllib.parse.urlparse(url).netloc

    def call(request):
        return urllib.request.urlopen(request, timeout=600).read()

    def run(sql):
        spec = {"name": "tpch", "sources": sources, "sql": sql, "output": {"format": "arrow"}}
        request = urllib.request.Request(f"{url}/v1/jobs", data=json.dumps(spec).encode(),
                                         headers={"content-type": "application/json"})
        try:
            job = json.loads(call(request))
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"refused: {e.read().decode()[:300]}")
        job = wait_for(http.client.HTTPConnection(host, timeout=600), job, poll)
        if job["state"] != "succeeded":
            raise RuntimeError(f"job {job['state']}: {job.get('error')}")
        run.job_seconds.append(seconds_between(job["started_at"], job["finished_at"]))
        return pa.ipc.open_stream(call(job["result"]["links"]["arrow"])).read_all()
    # Each job's own run (started_at → finished_at), the rest being submission, queueing,
    # polling and the download.
    run.job_seconds = []
    return run


def duckdb_engine(data):
    import duckdb
    con = duckdb.connect()
    for t in TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{data}/{t}.parquet')")
    return lambda sql: con.sql(sql).fetch_arrow_table()


def datafusion_engine(data):
    import datafusion
    ctx = datafusion.SessionContext()
    for t in TABLES:
        ctx.register_parquet(t, f"{data}/{t}.parquet")
    return lambda sql: ctx.sql(sql).to_arrow_table()


def polars_engine(data):
    import polars as pl
    ctx = pl.SQLContext(frames={t: pl.scan_parquet(f"{data}/{t}.parquet") for t in TABLES})
    return lambda sql: ctx.execute(sql).collect().to_arrow()


# --- answers ----------------------------------------------------------------------------------

def rows(table):
    """The answer as rows of plain values: decimals and floats as floats, dates as text."""
    out = []
    for row in table.to_pylist():
        values = []
        for v in row.values():
            if isinstance(v, (datetime.date, datetime.datetime)):
                v = v.isoformat()[:10]
            elif v is not None and not isinstance(v, (str, bool, int)):
                v = float(v)
            values.append(v)
        out.append(values)
    return out


def agree(ours, reference):
    """None where the answers are equal (in order; numbers to 1e-6 relative), else why not."""
    a, b = rows(ours), rows(reference)
    if len(a) != len(b):
        return f"{len(a)} rows, DuckDB {len(b)}"
    if a and len(a[0]) != len(b[0]):
        return f"{len(a[0])} columns, DuckDB {len(b[0])}"
    for i, (x, y) in enumerate(zip(a, b)):
        for j, (u, v) in enumerate(zip(x, y)):
            numbers = all(isinstance(w, (int, float)) and not isinstance(w, bool) for w in (u, v))
            same = (abs(u - v) <= 1e-6 * max(abs(u), abs(v), 1e-9)) if numbers else u == v
            if not same:
                return f"row {i} column {j}: {u!r}, DuckDB {v!r}"
    return None


def timed(run, sql, reps):
    run(sql)  # warm-up: file metadata, caches
    times, answer = [], None
    for _ in range(reps):
        started = time.perf_counter()
        answer = run(sql)
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, answer


# --- report -----------------------------------------------------------------------------------

def report(a, figures):
    engines = [e for e in ENGINES if e in a.engines]
    lines = [f"Machine: {machine()}", f"Versions: {versions()}",
             f"TPC-H SF{a.sf}, Parquet from tpchgen-cli; median of {a.reps} runs after a "
             "warm-up; (n×) = that engine's time / Rusk's (above 1: slower than Rusk). Rusk: "
             "end to end over HTTP (submit, run, download Arrow); the others in process.", "",
             "Rusk job: the job's own run (its started_at → finished_at).", "",
             "| query | " + " | ".join(engines) + " | Rusk job | Rusk's answer |",
             "|---" * (len(engines) + 3) + "|"]
    totals = {e: 0.0 for e in engines}
    job_total = 0.0
    complete = {e: True for e in engines}
    for n, by_engine in figures.items():
        cells = []
        base = by_engine.get("rusk", {}).get("median")
        for e in engines:
            r = by_engine.get(e, {})
            if "median" not in r:
                cells.append("failed")
                complete[e] = False
                continue
            totals[e] += r["median"]
            ratio = f" ({r['median'] / base:.1f}×)" if base and e != "rusk" else ""
            cells.append(f"{r['median']:.3f} s{ratio}")
        job = by_engine.get("rusk", {}).get("job_median")
        job_total += job or 0.0
        job_cell = f"{job:.3f} s" if job is not None else "—"
        answer = by_engine.get("rusk", {}).get("check", "not run")
        lines.append(f"| q{n} | " + " | ".join(cells) + f" | {job_cell} | {answer} |")
    base = totals.get("rusk")
    cells = []
    for e in engines:
        ratio = f" ({totals[e] / base:.2f}×)" if base and e != "rusk" else ""
        partial = "" if complete[e] else " (of those run)"
        cells.append(f"**{totals[e]:.2f} s**{ratio}{partial}")
    lines.append("| total | " + " | ".join(cells) + f" | **{job_total:.2f} s** | |")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rusk-bin", required=True)
    p.add_argument("--sf", default="1")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--queries", default=",".join(str(n) for n in range(1, 23)))
    p.add_argument("--engines", default=",".join(ENGINES))
    p.add_argument("--data-dir", default=os.path.expanduser("~/.cache/rusk-bench/tpch"))
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    a = p.parse_args()
    a.engines = a.engines.split(",")
    data = ensure_data(a.data_dir, a.sf)
    server = RuskServer(a.rusk_bin, a.data_dir, free_port()) if "rusk" in a.engines else None
    try:
        makers = {
            "rusk": lambda: rusk_engine(server.url, os.path.relpath(data, a.data_dir)),
            "duckdb": lambda: duckdb_engine(data),
            "datafusion": lambda: datafusion_engine(data),
            "polars": lambda: polars_engine(data),
        }
        runners = {"duckdb": makers["duckdb"]()}
        runners.update({e: makers[e]() for e in a.engines if e != "duckdb"})
        figures = {}
        for n in [int(q) for q in a.queries.split(",")]:
            sql = query(n)
            reference = runners["duckdb"](sql)
            figures[n] = {}
            for e in a.engines:
                try:
                    median, times, answer = timed(runners[e], sql, a.reps)
                    wrong = agree(answer, reference)
                    figures[n][e] = {"median": median, "times": times,
                                     "check": "equal" if wrong is None else f"differs: {wrong}"}
                    job_seconds = getattr(runners[e], "job_seconds", None)
                    if job_seconds:
                        figures[n][e]["job_median"] = statistics.median(job_seconds[-a.reps:])
                    shown = f"{median:7.3f} s  {figures[n][e]['check']}"
                except Exception as error:  # an engine that cannot run a query is a finding
                    figures[n][e] = {"error": str(error)[:300]}
                    shown = f"failed: {str(error)[:120]}"
                print(f"  q{n:<2} {e:11s} {shown}", flush=True)
    finally:
        if server:
            server.stop()
    text = report(a, figures)
    print("\n" + text)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    os.makedirs(a.out, exist_ok=True)
    base = os.path.join(a.out, f"tpch-sf{a.sf}-{stamp}")
    with open(base + ".md", "w") as f:
        f.write(text)
    with open(base + ".json", "w") as f:
        json.dump({"sf": a.sf, "reps": a.reps, "figures": figures}, f, indent=1)
    print(f"written to {base}.md and .json")


if __name__ == "__main__":
    main()
