"""One engine running one benchmark pipeline: warm-up, then timed repetitions. Run by
run.py in a process of its own (so one engine's memory and threads never slow another's),
it prints one JSON line: {"times": [...], "rows": n, "check": x} or {"error": "..."}.

usage: engines.py ENGINE PIPELINE --data DIR --reps 3 [--rusk URL --root ROOT] [--memory-limit BYTES]

Every engine does the same work: read the files, compute, and hand the whole result back to
this Python process (Rusk: over HTTP as Arrow IPC), except csv_to_parquet, which writes
Parquet files and returns how many rows they hold.
"""
import argparse
import glob
import http.client
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.parse

PIPELINES = ["seed_parquet", "seed_csv", "filter_sort_head", "merge_groupby",
             "csv_to_parquet", "groupby_memlimit", "top2_per_group", "join_full",
             "groupby_six_keys"]
ENGINES = ["rusk", "polars", "duckdb", "pandas", "dask_threads", "dask_distributed"]
AGG = {"total_spend": "sum", "session_duration": "mean", "click_count": "max"}
PART_SIZE = "64MB"
# Nearly every row its own group.
SIX_KEYS = ["user_id", "status", "country", "click_count", "add_on_cost", "event_time"]


def logs(data, fmt):
    return sorted(glob.glob(os.path.join(data, f"large-data-*.{fmt}")))


def fmt_of(pipeline):
    return "csv" if pipeline in ("seed_csv", "csv_to_parquet") else "parquet"


# --- Rusk, end to end over HTTP ----------------------------------------------------------

def rusk_spec(pipeline, rel):
    fmt = fmt_of(pipeline)
    logs_src = {"format": fmt, "path": f"{rel}/large-data-*.{fmt}"}
    spend = {"op": "assign", "columns": {"total_spend": "subscription_cost + add_on_cost"}}
    active = {"op": "filter", "expr": "status = 'active'"}
    sources = {"logs": logs_src}
    out = {"format": "arrow"}
    if pipeline in ("seed_parquet", "seed_csv"):
        steps = [active, spend, {"op": "groupby", "by": ["user_id"], "agg": AGG}]
    elif pipeline == "filter_sort_head":
        steps = [active, {"op": "sort", "by": ["session_duration"], "ascending": False},
                 {"op": "head", "n": 10}]
    elif pipeline == "merge_groupby":
        sources["users"] = {"format": "parquet", "path": f"{rel}/users.parquet"}
        steps = [spend, {"op": "merge", "right": "users", "on": ["user_id"]},
                 {"op": "groupby", "by": ["plan", "country"],
                  "agg": {"total_spend": "sum", "session_duration": "mean"}}]
    elif pipeline == "csv_to_parquet":
        steps = []
        out = {"format": "parquet", "partition_size": PART_SIZE}
    elif pipeline == "groupby_memlimit":
        steps = [spend, {"op": "groupby", "by": ["user_id", "country"], "agg": AGG}]
    elif pipeline == "top2_per_group":
        steps = [{"op": "nlargest", "n": 2, "columns": "session_duration", "by": "user_id"}]
    elif pipeline == "join_full":
        sources["users"] = {"format": "parquet", "path": f"{rel}/users.parquet"}
        steps = [{"op": "merge", "right": "users", "on": ["user_id"]}]
    elif pipeline == "groupby_six_keys":
        steps = [spend, {"op": "groupby", "by": SIX_KEYS, "agg": {"total_spend": "sum"}}]
    else:
        raise ValueError(pipeline)
    return {"name": f"bench-{pipeline}", "sources": sources, "input": "logs",
            "steps": steps, "output": out}


def wait_for(conn, job, poll=None):
    """Follows `GET /v1/jobs/{id}/events` on `conn` until the job ends, as Rusk's Python client
    does, and returns its last view. A client that polls instead (every `poll` seconds) takes
    CPU from the jobs on a small machine (every 2 ms: a tenth of the server's, besides its
    own); `poll` is for builds whose events came only every 250 ms."""
    if poll is not None:
        while job["state"] in ("queued", "running"):
            time.sleep(poll)
            conn.request("GET", f"/v1/jobs/{job['id']}")
            job = json.loads(conn.getresponse().read())
        return job
    if job["state"] not in ("queued", "running"):
        return job
    conn.request("GET", f"/v1/jobs/{job['id']}/events")
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"events of {job['id']}: {response.status} {response.read()[:300]!r}")
    data = []
    try:
        while job["state"] in ("queued", "running"):
            line = response.readline()
            if not line:
                raise RuntimeError(f"the events of {job['id']} ended while it was {job['state']}")
            line = line.decode().rstrip("\r\n")
            if line.startswith("data:"):
                data.append(line[5:].lstrip())
            elif not line and data:
                job, data = json.loads("\n".join(data)), []
    finally:
        response.close()
    return job


class Rusk:
    def __init__(self, url, root, data, poll=None):
        self.poll = poll
        parsed = urllib.parse.urlparse(url)
        self.conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=600)
        self.rel = os.path.relpath(data, root)

    def call(self, method, path, body=None):
        headers = {"content-type": "application/json"} if body is not None else {}
        self.conn.request(method, path, body, headers)
        response = self.conn.getresponse()
        payload = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:500]!r}")
        return payload

    def run(self, pipeline):
        import pyarrow as pa
        spec = json.dumps(rusk_spec(pipeline, self.rel))
        job = wait_for(self.conn, json.loads(self.call("POST", "/v1/jobs", spec)), self.poll)
        if job["state"] != "succeeded":
            raise RuntimeError(f"job {job['state']}: {job.get('error')}")
        if pipeline == "csv_to_parquet":
            return sum(f["rows"] for f in job["result"]["files"]), len(job["result"]["files"])
        link = urllib.parse.urlparse(job["result"]["links"]["arrow"])
        table = pa.ipc.open_stream(self.call("GET", f"{link.path}?{link.query}")).read_all()
        return table.num_rows, check(table.to_pandas())


# --- Python peers --------------------------------------------------------------------------

def check(frame):
    """A figure every engine's result must agree on: the sum of the first aggregate column
    (or of session_duration for the top-10 rows)."""
    for column in ("total_spend", "session_duration"):
        if column in frame.columns:
            return round(float(frame[column].sum()), 0)
    return None


def polars_run(pipeline, data, limit):
    import polars as pl
    fmt = fmt_of(pipeline)
    files = logs(data, fmt)
    scan = (pl.scan_parquet(files) if fmt == "parquet"
            else pl.scan_csv(files, try_parse_dates=True))
    spend = (pl.col("subscription_cost") + pl.col("add_on_cost")).alias("total_spend")
    aggs = [pl.col("total_spend").sum(), pl.col("session_duration").mean(),
            pl.col("click_count").max()]
    engine = "auto"
    if pipeline in ("seed_parquet", "seed_csv"):
        q = scan.filter(pl.col("status") == "active").with_columns(spend).group_by("user_id").agg(aggs)
    elif pipeline == "filter_sort_head":
        q = scan.filter(pl.col("status") == "active").sort("session_duration", descending=True).head(10)
    elif pipeline == "merge_groupby":
        users = pl.scan_parquet(os.path.join(data, "users.parquet"))
        q = (scan.with_columns(spend).join(users, on="user_id").group_by(["plan", "country"])
             .agg(pl.col("total_spend").sum(), pl.col("session_duration").mean()))
    elif pipeline == "csv_to_parquet":
        out = tempfile.mkdtemp(prefix="bench-polars-")
        try:
            scan.sink_parquet(os.path.join(out, "part.parquet"))
            return pl.scan_parquet(os.path.join(out, "*.parquet")).select(pl.len()).collect().item(), 1
        finally:
            shutil.rmtree(out)
    elif pipeline == "groupby_memlimit":
        # Polars has no memory cap; its streaming engine is the closest it offers.
        engine = "streaming"
        q = scan.with_columns(spend).group_by(["user_id", "country"]).agg(aggs)
    elif pipeline == "top2_per_group":
        rank = pl.col("session_duration").rank("ordinal", descending=True).over("user_id")
        q = scan.filter(rank <= 2)
    elif pipeline == "join_full":
        q = scan.join(pl.scan_parquet(os.path.join(data, "users.parquet")), on="user_id")
    elif pipeline == "groupby_six_keys":
        q = scan.with_columns(spend).group_by(SIX_KEYS).agg(pl.col("total_spend").sum())
    frame = q.collect(engine=engine).to_pandas()
    return len(frame), check(frame)


def duckdb_run(pipeline, data, limit):
    import duckdb
    con = duckdb.connect()
    if limit:
        con.execute(f"SET memory_limit = '{limit // 1_000_000}MB'")
        con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/bench-duckdb-spill'")
    fmt = fmt_of(pipeline)
    src = (f"read_parquet({logs(data, fmt)!r})" if fmt == "parquet"
           else f"read_csv({logs(data, fmt)!r})")
    aggs = ("sum(subscription_cost + add_on_cost) AS total_spend, "
            "avg(session_duration) AS session_duration, max(click_count) AS click_count")
    if pipeline in ("seed_parquet", "seed_csv"):
        sql = f"SELECT user_id, {aggs} FROM {src} WHERE status = 'active' GROUP BY user_id"
    elif pipeline == "filter_sort_head":
        sql = f"SELECT * FROM {src} WHERE status = 'active' ORDER BY session_duration DESC LIMIT 10"
    elif pipeline == "merge_groupby":
        users = os.path.join(data, "users.parquet")
        sql = (f"SELECT plan, country, sum(subscription_cost + add_on_cost) AS total_spend, "
               f"avg(session_duration) AS session_duration FROM {src} "
               f"JOIN read_parquet('{users}') USING (user_id) GROUP BY plan, country")
    elif pipeline == "csv_to_parquet":
        out = tempfile.mkdtemp(prefix="bench-duckdb-")
        try:
            con.execute(f"COPY (SELECT * FROM {src}) TO '{out}' "
                        f"(FORMAT parquet, FILE_SIZE_BYTES '{PART_SIZE}')")
            files = glob.glob(os.path.join(out, "*.parquet"))
            rows = con.execute(f"SELECT count(*) FROM read_parquet({files!r})").fetchone()[0]
            return rows, len(files)
        finally:
            shutil.rmtree(out)
    elif pipeline == "groupby_memlimit":
        sql = f"SELECT user_id, country, {aggs} FROM {src} GROUP BY user_id, country"
    elif pipeline == "top2_per_group":
        sql = (f"SELECT * FROM {src} QUALIFY row_number() OVER "
               f"(PARTITION BY user_id ORDER BY session_duration DESC) <= 2")
    elif pipeline == "join_full":
        users = os.path.join(data, "users.parquet")
        sql = f"SELECT * FROM {src} AS l JOIN read_parquet('{users}') AS u USING (user_id)"
    elif pipeline == "groupby_six_keys":
        keys = ", ".join(SIX_KEYS)
        sql = (f"SELECT {keys}, sum(subscription_cost + add_on_cost) AS total_spend "
               f"FROM {src} GROUP BY {keys}")
    frame = con.execute(sql).df()
    return len(frame), check(frame)


def pandas_run(pipeline, data, limit):
    import pandas as pd
    if pipeline == "groupby_memlimit":
        raise NotImplementedError("pandas has no memory limit or out-of-core mode")
    fmt = fmt_of(pipeline)
    files = logs(data, fmt)

    def read(f):
        return pd.read_parquet(f) if fmt == "parquet" else pd.read_csv(f, parse_dates=["event_time"])

    if pipeline == "csv_to_parquet":
        out = tempfile.mkdtemp(prefix="bench-pandas-")
        try:
            rows = 0
            for i, f in enumerate(files):
                frame = read(f)
                frame.to_parquet(os.path.join(out, f"part-{i}.parquet"))
                rows += len(frame)
            return rows, len(files)
        finally:
            shutil.rmtree(out)
    df = pd.concat([read(f) for f in files], ignore_index=True)
    if pipeline in ("seed_parquet", "seed_csv"):
        df = df[df.status == "active"].copy()
        df["total_spend"] = df.subscription_cost + df.add_on_cost
        frame = df.groupby("user_id").agg(AGG)
    elif pipeline == "filter_sort_head":
        frame = df[df.status == "active"].nlargest(10, "session_duration")
    elif pipeline == "merge_groupby":
        df["total_spend"] = df.subscription_cost + df.add_on_cost
        users = pd.read_parquet(os.path.join(data, "users.parquet"))
        frame = df.merge(users, on="user_id").groupby(["plan", "country"]).agg(
            {"total_spend": "sum", "session_duration": "mean"})
    elif pipeline == "top2_per_group":
        frame = df.sort_values("session_duration", ascending=False).groupby("user_id").head(2)
    elif pipeline == "join_full":
        frame = df.merge(pd.read_parquet(os.path.join(data, "users.parquet")), on="user_id")
    elif pipeline == "groupby_six_keys":
        df["total_spend"] = df.subscription_cost + df.add_on_cost
        frame = df.groupby(SIX_KEYS).agg({"total_spend": "sum"})
    return len(frame), check(frame)


class Dask:
    def __init__(self, distributed, limit):
        import dask
        self.client = None
        if distributed:
            from dask.distributed import Client, LocalCluster
            # One single-threaded worker per core, as the Dask guide sets up a LocalCluster.
            workers = os.cpu_count()
            kwargs = {"memory_limit": limit // workers} if limit else {}
            self.client = Client(LocalCluster(n_workers=workers, threads_per_worker=1,
                                              dashboard_address=None, **kwargs))
        else:
            dask.config.set(scheduler="threads")

    def compute(self, collection):
        # dask.compute lowers the expression here; Client.compute hands it to the scheduler
        # unlowered, which deadlocks on repartition(partition_size=...). The Client, once
        # made, is dask's default scheduler.
        import dask
        return dask.compute(collection)[0]

    def run(self, pipeline, data, limit):
        import dask.dataframe as dd
        fmt = fmt_of(pipeline)
        files = logs(data, fmt)
        df = (dd.read_parquet(files) if fmt == "parquet"
              else dd.read_csv(files, parse_dates=["event_time"]))
        if pipeline == "csv_to_parquet":
            out = tempfile.mkdtemp(prefix="bench-dask-")
            try:
                if self.client:
                    # repartition(partition_size=...) deadlocks the distributed scheduler
                    # (dask 2026.8: it sizes partitions from inside graph materialization);
                    # 64 MB read blocks are the closest a distributed user can get.
                    parts = dd.read_csv(files, parse_dates=["event_time"], blocksize=PART_SIZE)
                else:
                    parts = df.repartition(partition_size=PART_SIZE)
                self.compute(parts.to_parquet(out, compute=False))
                return len(dd.read_parquet(out)), len(glob.glob(os.path.join(out, "*.parquet")))
            finally:
                shutil.rmtree(out)
        if pipeline in ("seed_parquet", "seed_csv"):
            df = df[df.status == "active"]
            df = df.assign(total_spend=df.subscription_cost + df.add_on_cost)
            out = df.groupby("user_id").agg(AGG)
        elif pipeline == "filter_sort_head":
            out = df[df.status == "active"].nlargest(10, "session_duration")
        elif pipeline == "merge_groupby":
            df = df.assign(total_spend=df.subscription_cost + df.add_on_cost)
            users = dd.read_parquet(os.path.join(data, "users.parquet"))
            out = df.merge(users, on="user_id").groupby(["plan", "country"]).agg(
                {"total_spend": "sum", "session_duration": "mean"})
        elif pipeline == "groupby_memlimit":
            df = df.assign(total_spend=df.subscription_cost + df.add_on_cost)
            out = df.groupby(["user_id", "country"]).agg(AGG)
        elif pipeline == "top2_per_group":
            out = df.groupby("user_id").apply(
                lambda g: g.nlargest(2, "session_duration"), meta=df._meta)
        elif pipeline == "join_full":
            out = df.merge(dd.read_parquet(os.path.join(data, "users.parquet")), on="user_id")
        elif pipeline == "groupby_six_keys":
            df = df.assign(total_spend=df.subscription_cost + df.add_on_cost)
            out = df.groupby(SIX_KEYS).agg({"total_spend": "sum"})
        frame = self.compute(out)
        return len(frame), check(frame)


def runner(engine, a):
    if engine == "rusk":
        client = Rusk(a.rusk, a.root, a.data)
        return lambda: client.run(a.pipeline)
    if engine in ("dask_threads", "dask_distributed"):
        dask = Dask(engine == "dask_distributed", a.memory_limit)
        return lambda: dask.run(a.pipeline, a.data, a.memory_limit)
    run = {"polars": polars_run, "duckdb": duckdb_run, "pandas": pandas_run}[engine]
    return lambda: run(a.pipeline, a.data, a.memory_limit)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("engine", choices=ENGINES)
    p.add_argument("pipeline", choices=PIPELINES)
    p.add_argument("--data", required=True)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--rusk", default="http://127.0.0.1:8080")
    p.add_argument("--root", default=".")
    p.add_argument("--memory-limit", type=int, default=0)
    a = p.parse_args()
    try:
        run = runner(a.engine, a)
        run()  # warm-up: imports, the file cache, a worker's first job
        times = []
        for _ in range(a.reps):
            start = time.perf_counter()
            rows, checked = run()
            times.append(time.perf_counter() - start)
        print(json.dumps({"times": times, "rows": rows, "check": checked}))
    except NotImplementedError as e:
        print(json.dumps({"skipped": str(e)}))
    except Exception as e:  # noqa: BLE001 - any failure is a result to report, not a crash
        print(json.dumps({"error": f"{type(e).__name__}: {str(e)[:300]}"}))
    sys.stdout.flush()
    os._exit(0)  # a distributed cluster's shutdown can take seconds; its time is not measured


if __name__ == "__main__":
    main()
