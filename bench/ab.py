"""Compares two Rusk builds on the same pipelines: both servers run side by side (idle while
the other works), jobs alternate between them, and each job's end-to-end time and the server's
CPU time for it (from /proc) are recorded. On a small, noisy VM the CPU time per job is the
steadier figure; alternating keeps slow and fast phases of the machine from favouring one build.

usage: bench/ab.py OLD_BIN NEW_BIN [--size 10M] [--pipelines seed_parquet,...] [--jobs 9]
(run it with the bench venv's python; data comes from bench/run's data directory)
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

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def one_job(server, client, pipeline):
    cpu = cpu_seconds(server.process.pid)
    start = time.perf_counter()
    rows, check = client.run(pipeline)
    return time.perf_counter() - start, cpu_seconds(server.process.pid) - cpu, (rows, check)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--size", default="10M")
    p.add_argument("--files", type=int, default=8)
    p.add_argument("--pipelines", default="seed_parquet")
    p.add_argument("--jobs", type=int, default=9, help="timed jobs per build and pipeline")
    p.add_argument("--data-dir", default=os.path.expanduser("~/.cache/rusk-bench/data"))
    a = p.parse_args()
    data_dir = os.path.abspath(a.data_dir)
    data, _ = ensure_data(data_dir, a.size, a.files)
    servers = {name: RuskServer(binary, data_dir, free_port())
               for name, binary in (("old", a.old), ("new", a.new))}
    try:
        clients = {name: Rusk(s.url, data_dir, data) for name, s in servers.items()}
        for pipeline in a.pipelines.split(","):
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
