"""Compares two Rusk builds on the same pipelines: both servers run side by side (idle while
the other works), jobs alternate between them, and each job's end-to-end time and the server's
CPU time for it (from /proc) are recorded. On a small, noisy VM the CPU time per job is the
steadier figure; alternating keeps slow and fast phases of the machine from favouring one build.

usage: bench/ab.py OLD_BIN NEW_BIN [--size 10M] [--pipelines seed_parquet,tpch-q7,...] [--jobs 9]
                  [--old-env VAR=VALUE,...] [--new-env VAR=VALUE,...] [--tpch-sf 1]
                  [--old-poll 0.002] [--new-poll 0.002]
(run it with the bench venv's python; data comes from bench/run's data directory, TPC-H's from
bench/tpch.py's). `tpch-qN` is TPC-H query N as a `sql` job. The two may be one binary with
different settings: `bench/ab.py R R --old-env DATAFUSION_EXECUTION_PARQUET_PUSHDOWN_FILTERS=true`.
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from engines import Rusk  # noqa: E402
from run import RuskServer, ensure_data, free_port  # noqa: E402
import tpch  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class TpchClient:
    """Runs `tpch-qN` pipelines; the answer's check is its rows and first column's sum."""

    def __init__(self, url, root, data, poll=None):
        self.run_sql = tpch.rusk_engine(url, os.path.relpath(data, root), poll)

    def run(self, pipeline):
        table = self.run_sql(tpch.query(int(pipeline.removeprefix("tpch-q"))))
        first = table.column(0).to_pylist() if table.num_columns else []
        numbers = [float(v) for v in first if isinstance(v, (int, float)) or hasattr(v, "scaleb")]
        return table.num_rows, round(sum(numbers), 6)


def one_job(server, clients, pipeline):
    client = clients[1] if pipeline.startswith("tpch-q") else clients[0]
    cpu = cpu_seconds(server.process.pid)
    start = time.perf_counter()
    rows, check = client.run(pipeline)
    return time.perf_counter() - start, cpu_seconds(server.process.pid) - cpu, (rows, check)


def settings(text):
    """`VAR=VALUE,...` as a dict."""
    return dict(item.split("=", 1) for item in text.split(",") if item)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--size", default="10M")
    p.add_argument("--files", type=int, default=8)
    p.add_argument("--pipelines", default="seed_parquet")
    p.add_argument("--jobs", type=int, default=9, help="timed jobs per build and pipeline")
    p.add_argument("--data-dir", default=os.path.expanduser("~/.cache/rusk-bench/data"))
    p.add_argument("--old-env", default="", help="VAR=VALUE,... for the old build's server")
    p.add_argument("--new-env", default="", help="VAR=VALUE,... for the new build's server")
    p.add_argument("--old-poll", type=float, default=None,
                   help="seconds between the old build's client's polls, instead of its events")
    p.add_argument("--new-poll", type=float, default=None,
                   help="seconds between the new build's client's polls, instead of its events")
    p.add_argument("--tpch-sf", default="1")
    p.add_argument("--tpch-dir", default=os.path.expanduser("~/.cache/rusk-bench/tpch"))
    a = p.parse_args()
    pipelines = a.pipelines.split(",")
    data_dir = os.path.abspath(a.data_dir)
    tpch_dir = os.path.abspath(a.tpch_dir)
    logs = any(not p.startswith("tpch-q") for p in pipelines)
    data = ensure_data(data_dir, a.size, a.files)[0] if logs else data_dir
    tpch_data = (tpch.ensure_data(tpch_dir, a.tpch_sf)
                 if any(p.startswith("tpch-q") for p in pipelines) else tpch_dir)
    root = os.path.commonpath([data_dir, tpch_dir])
    servers = {name: RuskServer(binary, root, free_port(), env=settings(env))
               for name, binary, env in (("old", a.old, a.old_env), ("new", a.new, a.new_env))}
    try:
        polls = {"old": a.old_poll, "new": a.new_poll}
        clients = {name: (Rusk(s.url, root, data, polls[name]),
                          TpchClient(s.url, root, tpch_data, polls[name]))
                   for name, s in servers.items()}
        for pipeline in pipelines:
            figures = {name: ([], []) for name in servers}
            answers = set()
            for name in servers:  # warm-up: file cache, first job
                one_job(servers[name], clients[name], pipeline)
            for _ in range(a.jobs):
                for name in servers:
                    wall, cpu, answer = one_job(servers[name], clients[name], pipeline)
                    figures[name][0].append(wall)
                    figures[name][1].append(cpu)
                    answers.add(answer)
            if len(answers) > 1:
                print(f"WARNING: the builds disagree on {pipeline}: {answers}")
            for name, (walls, cpus) in figures.items():
                print(f"{pipeline:18s} {name}: wall median {statistics.median(walls):.3f} s "
                      f"(min {min(walls):.3f}), CPU per job median {statistics.median(cpus):.2f} s "
                      f"(min {min(cpus):.2f})", flush=True)
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    main()
