"""Times the Dask guide's seed pipeline (filter active, total_spend, groupby user_id
sum/mean/max) end to end in Rusk over HTTP and in Polars, DuckDB, pandas and Dask on the same
files, in one run. Prints medians and ratios to Rusk.

usage: seed_compare.py DATA_DIR --rusk http://127.0.0.1:8080 --root ROOT [--format parquet] [--reps 3]
DATA_DIR must lie under Rusk's data root ROOT.
"""
import argparse
import glob
import json
import os
import statistics
import time
import urllib.request

import pyarrow as pa


def rusk(base, rel, fmt):
    spec = {
        "sources": {"logs": {"format": fmt, "path": f"{rel}/large-data-*.{fmt}"}},
        "steps": [
            {"op": "filter", "expr": "status = 'active'"},
            {"op": "assign", "columns": {"total_spend": "subscription_cost + add_on_cost"}},
            {"op": "groupby", "by": ["user_id"],
             "agg": {"total_spend": "sum", "session_duration": "mean", "click_count": "max"}},
        ],
        "output": {"format": "arrow"},
    }
    req = urllib.request.Request(f"{base}/v1/jobs", json.dumps(spec).encode(),
                                 {"content-type": "application/json"})
    job = json.load(urllib.request.urlopen(req))
    while job["state"] in ("queued", "running"):
        time.sleep(0.01)
        job = json.load(urllib.request.urlopen(f"{base}/v1/jobs/{job['id']}"))
    assert job["state"] == "succeeded", job
    data = urllib.request.urlopen(job["result"]["links"]["arrow"]).read()
    return pa.ipc.open_stream(data).read_all().num_rows


def polars(files, fmt):
    import polars as pl
    scan = pl.scan_parquet(files) if fmt == "parquet" else pl.scan_csv(files)
    return (scan.filter(pl.col("status") == "active")
            .with_columns(total_spend=pl.col("subscription_cost") + pl.col("add_on_cost"))
            .group_by("user_id")
            .agg(pl.col("total_spend").sum(), pl.col("session_duration").mean(), pl.col("click_count").max())
            .collect().height)


def duckdb_(files, fmt):
    import duckdb
    reader = "read_parquet" if fmt == "parquet" else "read_csv_auto"
    return len(duckdb.sql(f"""
        SELECT user_id, sum(subscription_cost + add_on_cost) total_spend,
               avg(session_duration) session_duration, max(click_count) click_count
        FROM {reader}({files!r}) WHERE status = 'active' GROUP BY user_id""").fetchall())


def pandas_(files, fmt):
    import pandas as pd
    read = pd.read_parquet if fmt == "parquet" else pd.read_csv
    df = pd.concat([read(f) for f in files])
    df = df[df.status == "active"].copy()
    df["total_spend"] = df.subscription_cost + df.add_on_cost
    return len(df.groupby("user_id").agg(
        {"total_spend": "sum", "session_duration": "mean", "click_count": "max"}))


def dask_(files, fmt, scheduler):
    import dask
    import dask.dataframe as dd
    df = dd.read_parquet(files) if fmt == "parquet" else dd.read_csv(files)
    df = df[df.status == "active"]
    df = df.assign(total_spend=df.subscription_cost + df.add_on_cost)
    out = df.groupby("user_id").agg(
        {"total_spend": "sum", "session_duration": "mean", "click_count": "max"})
    if scheduler == "distributed":
        return len(distributed_client().compute(out).result())
    with dask.config.set(scheduler=scheduler):
        return len(out.compute())


_client = None


def distributed_client():
    """One LocalCluster for the whole run, as the Dask guide advises (one worker per core)."""
    global _client
    if _client is None:
        from dask.distributed import Client
        _client = Client(n_workers=os.cpu_count(), threads_per_worker=1, dashboard_address=None)
    return _client


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--rusk", default="http://127.0.0.1:8080")
    p.add_argument("--root", required=True)
    p.add_argument("--format", default="parquet")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--only", default="")
    a = p.parse_args()
    files = sorted(glob.glob(os.path.join(a.data, f"large-data-*.{a.format}")))
    rel = os.path.relpath(a.data, a.root)
    runs = {
        "rusk (HTTP, end to end)": lambda: rusk(a.rusk, rel, a.format),
        "polars": lambda: polars(files, a.format),
        "duckdb": lambda: duckdb_(files, a.format),
        "pandas": lambda: pandas_(files, a.format),
        "dask (threads)": lambda: dask_(files, a.format, "threads"),
        "dask (distributed)": lambda: dask_(files, a.format, "distributed"),
    }
    if a.only:
        runs = {k: v for k, v in runs.items() if any(o in k for o in a.only.split(","))}
    medians = {}
    for name, run in runs.items():
        try:
            run()  # warm-up: file cache, imports
            times = []
            for _ in range(a.reps):
                t = time.perf_counter()
                rows = run()
                times.append(time.perf_counter() - t)
            medians[name] = statistics.median(times)
            print(f"{name:26s} {medians[name]:7.3f} s  ({rows} groups)", flush=True)
        except ImportError as e:
            print(f"{name:26s} skipped: {e}")
    base = medians.get("rusk (HTTP, end to end)")
    if base:
        print("\nratio to Rusk (>1: slower than Rusk)")
        for name, m in medians.items():
            print(f"{name:26s} {m / base:6.2f}x")


if __name__ == "__main__":
    main()
