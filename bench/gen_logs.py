"""Writes the Dask guide's user-interaction logs, deterministic by seed.

usage: gen_logs.py OUT_DIR --rows 10000000 --files 8 [--format parquet|csv] [--seed 0]
Columns: user_id, status, subscription_cost, add_on_cost, session_duration, click_count,
country, event_time. Also writes the users table (users.parquet and users.csv: user_id, plan,
age, signup_year), one row per user id.
"""
import argparse
import os

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--files", type=int, default=8)
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    per_file = a.rows // a.files
    statuses = np.array(["active", "inactive", "trial"])
    countries = np.array(["de", "fr", "us", "br", "in", "jp", "ng", "mx"])
    for i in range(a.files):
        n = per_file if i < a.files - 1 else a.rows - per_file * (a.files - 1)
        table = pa.table({
            "user_id": rng.integers(0, a.users, n, dtype=np.int64),
            "status": statuses[rng.integers(0, 3, n)],
            "subscription_cost": np.round(rng.uniform(0, 100, n), 2),
            "add_on_cost": np.round(rng.uniform(0, 20, n), 2),
            "session_duration": np.round(rng.exponential(600, n), 1),
            "click_count": rng.integers(0, 100, n, dtype=np.int64),
            "country": countries[rng.integers(0, len(countries), n)],
            "event_time": pa.array(
                np.datetime64("2026-01-01") + rng.integers(0, 86_400 * 300, n).astype("timedelta64[s]")
            ),
        })
        path = os.path.join(a.out, f"large-data-{i}.{a.format}")
        if a.format == "parquet":
            pq.write_table(table, path, compression="snappy")
        else:
            pacsv.write_csv(table, path)
    write_users(a.out, a.users, a.seed)
    print(f"wrote {a.rows} rows in {a.files} {a.format} files to {a.out}")


def write_users(out, users, seed):
    rng = np.random.default_rng(seed + 1)
    plans = np.array(["free", "basic", "pro", "team"])
    table = pa.table({
        "user_id": np.arange(users, dtype=np.int64),
        "plan": plans[rng.integers(0, len(plans), users)],
        "age": rng.integers(18, 80, users, dtype=np.int64),
        "signup_year": rng.integers(2015, 2027, users, dtype=np.int64),
    })
    pq.write_table(table, os.path.join(out, "users.parquet"))
    pacsv.write_csv(table, os.path.join(out, "users.csv"))


if __name__ == "__main__":
    main()
