"""Job-queue load figures against a running Rusk: POST latency at a fixed request rate
(open loop: requests are sent on schedule whether or not earlier ones have answered), and
tiny-job throughput and enqueue-to-start latency.

usage: queue_load.py --url http://127.0.0.1:8080 [--rate 300] [--seconds 10] [--tiny 2000]
Rusk's data root must hold t.csv (any small CSV with a column `a`).
"""
import argparse
import asyncio
import concurrent.futures as cf
import json
import statistics
import time
import urllib.parse
import urllib.request
from datetime import datetime

SPEC = json.dumps({"sources": {"t": {"format": "csv", "path": "t.csv"}},
                   "sql": "SELECT a FROM t"}).encode()


def post(url):
    t = time.perf_counter()
    req = urllib.request.Request(f"{url}/v1/jobs", SPEC, {"content-type": "application/json"})
    job = json.load(urllib.request.urlopen(req))
    return time.perf_counter() - t, job["id"]


async def _request(reader, writer, host, body):
    """One POST on a kept-alive HTTP/1.1 connection; returns the status."""
    writer.write(b"POST /v1/jobs HTTP/1.1\r\nHost: " + host.encode() +
                 b"\r\nContent-Type: application/json\r\nContent-Length: " +
                 str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    await reader.readexactly(length)
    return status


async def _fixed_rate(url, rate, seconds, connections):
    """Open loop: request i is due at start + i/rate whatever happened before it. Latency is
    counted from when it was due (so a stalled server cannot hide its queue) and from when it
    was sent."""
    parsed = urllib.parse.urlparse(url)
    host, port = parsed.hostname, parsed.port or 80
    total = int(rate * seconds)
    free = asyncio.Queue()
    for _ in range(connections):
        free.put_nowait(await asyncio.open_connection(host, port))
    due_latency, sent_latency, errors = [], [], 0
    start = time.perf_counter()

    async def one(i):
        nonlocal errors
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        reader, writer = await free.get()
        sent = time.perf_counter()
        status = await _request(reader, writer, f"{host}:{port}", SPEC)
        done = time.perf_counter()
        free.put_nowait((reader, writer))
        errors += status != 201
        due_latency.append(done - due)
        sent_latency.append(done - sent)

    await asyncio.gather(*(one(i) for i in range(total)))
    return time.perf_counter() - start, total, errors, sorted(due_latency), sorted(sent_latency)


def fixed_rate(url, rate, seconds, connections=32):
    elapsed, total, errors, due, sent = asyncio.run(_fixed_rate(url, rate, seconds, connections))
    q = lambda xs, p: xs[min(len(xs) - 1, int(p * len(xs)))] * 1000
    print(f"POST at {rate:.0f}/s for {seconds:.0f}s: {total} sent in {elapsed:.1f}s "
          f"({total / elapsed:.0f}/s), {errors} not 201; latency from due time "
          f"p50 {q(due, 0.5):.1f} ms, p99 {q(due, 0.99):.1f} ms, max {due[-1] * 1000:.1f} ms; "
          f"from send p50 {q(sent, 0.5):.1f} ms, p99 {q(sent, 0.99):.1f} ms")


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
    p.add_argument("--tiny", type=int, default=2000, help="0: skip the tiny-job run")
    a = p.parse_args()
    fixed_rate(a.url, a.rate, a.seconds)
    if a.tiny:
        tiny_jobs(a.url, a.tiny)


if __name__ == "__main__":
    main()
