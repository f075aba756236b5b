"""Job-queue load figures against a running Rusk: POST latency at a fixed request rate
(open loop: requests are sent on schedule whether or not earlier ones have answered), and
tiny-job throughput and enqueue-to-start latency.

usage: queue_load.py --url http://127.0.0.1:8080 [--rate 300] [--seconds 10] [--tiny 2000]
Rusk's data root must hold t.csv (any small CSV with a column `a`).
"""
import argparse
import concurrent.futures as cf
import json
import statistics
import threading
import time
import urllib.request
from datetime import datetime

SPEC = json.dumps({"sources": {"t": {"format": "csv", "path": "t.csv"}},
                   "sql": "SELECT a FROM t"}).encode()


def post(url):
    t = time.perf_counter()
    req = urllib.request.Request(f"{url}/v1/jobs", SPEC, {"content-type": "application/json"})
    job = json.load(urllib.request.urlopen(req))
    return time.perf_counter() - t, job["id"]


def fixed_rate(url, rate, seconds):
    total = int(rate * seconds)
    latencies, lock = [], threading.Lock()
    start = time.perf_counter()

    def one(i):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        took, _ = post(url)
        with lock:
            latencies.append(took)

    with cf.ThreadPoolExecutor(64) as pool:
        list(pool.map(one, range(total)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
    print(f"POST at {rate}/s for {seconds}s: sent {total} in {elapsed:.1f}s, "
          f"p50 {q(0.5):.1f} ms, p99 {q(0.99):.1f} ms, max {latencies[-1] * 1000:.1f} ms")


def tiny_jobs(url, count):
    start = time.perf_counter()
    with cf.ThreadPoolExecutor(16) as pool:
        ids = [job_id for _, job_id in pool.map(lambda _: post(url), range(count))]
    while True:
        page = json.load(urllib.request.urlopen(f"{url}/v1/jobs?state=succeeded&limit=1"))
        queued = json.load(urllib.request.urlopen(f"{url}/v1/jobs?state=queued&limit=1"))
        running = json.load(urllib.request.urlopen(f"{url}/v1/jobs?state=running&limit=1"))
        if not queued["jobs"] and not running["jobs"]:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    waits = []
    for job_id in ids[:: max(1, count // 200)]:
        job = json.load(urllib.request.urlopen(f"{url}/v1/jobs/{job_id}"))
        waits.append((datetime.fromisoformat(job["started_at"])
                      - datetime.fromisoformat(job["created_at"])).total_seconds() * 1000)
    print(f"{count} tiny jobs: all ended in {elapsed:.1f}s ({count / elapsed:.0f} jobs/s); "
          f"enqueue-to-start median {statistics.median(waits):.0f} ms under that backlog")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--rate", type=float, default=300)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--tiny", type=int, default=2000)
    a = p.parse_args()
    fixed_rate(a.url, a.rate, a.seconds)
    tiny_jobs(a.url, a.tiny)


if __name__ == "__main__":
    main()
