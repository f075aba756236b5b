"""Dictionary-typed (categorical) inputs through the benchmark pipelines, in every output
format and every download, read back by pandas, pyarrow and polars.

For each pipeline and output format, one job reads logs whose `status` and `country` (and the
users' `plan`) are dictionary-encoded, as pandas writes `category` columns, and one job reads
the same values as plain strings. Every way of getting the result (the stored files, the
Arrow stream, Parquet, CSV and JSON downloads), read by each library, must give the same rows
for both; Arrow and Parquet keep categoricals as categoricals, with unique categories.

usage: categoricals.py BASE_URL DATA_ROOT
"""
import io
import json
import os
import sys
import time
import urllib.parse
import urllib.request

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

BASE = sys.argv[1]
ROOT = sys.argv[2]
FORMATS = ["parquet", "arrow", "csv", "json"]
AGG = {"total_spend": "sum", "session_duration": "mean", "click_count": "max"}


def write_data():
    rng = np.random.default_rng(7)
    statuses = np.array(["active", "inactive", "trial"])
    countries = np.array(["de", "fr", "us", "br", "in", "jp", "ng", "mx"])
    for kind in ("plain", "dict"):
        os.makedirs(os.path.join(ROOT, "cat", kind), exist_ok=True)
    n = 2000
    for i in range(3):
        plain = pa.table({
            "user_id": rng.integers(0, 300, n, dtype=np.int64),
            "status": statuses[rng.integers(0, 3, n)],
            "subscription_cost": np.round(rng.uniform(0, 100, n), 2),
            "add_on_cost": np.round(rng.uniform(0, 20, n), 2),
            # Unique, so that sort + head has one answer.
            "session_duration": (rng.permutation(n) + i * n) / 10.0,
            "click_count": rng.integers(0, 100, n, dtype=np.int64),
            # Each file has its own set of countries: the dictionaries differ across files.
            "country": countries[rng.integers(0, 4 + i * 2, n)],
        })
        write_pair(f"large-data-{i}.parquet", plain, ["status", "country"])
    plans = np.array(["free", "basic", "pro", "team"])
    users = pa.table({
        "user_id": np.arange(300, dtype=np.int64),
        "plan": plans[rng.integers(0, 4, 300)],
    })
    write_pair("users.parquet", users, ["plan"])


def write_pair(name, plain, categorical):
    pq.write_table(plain, os.path.join(ROOT, "cat", "plain", name))
    encoded = plain
    for column in categorical:
        at = encoded.schema.get_field_index(column)
        encoded = encoded.set_column(at, column, encoded.column(column).dictionary_encode())
    pq.write_table(encoded, os.path.join(ROOT, "cat", "dict", name))


def spec(pipeline, kind, fmt):
    logs = {"format": "parquet", "path": f"cat/{kind}/large-data-*.parquet"}
    sources = {"logs": logs}
    spend = {"op": "assign", "columns": {"total_spend": "subscription_cost + add_on_cost"}}
    active = {"op": "filter", "expr": "status = 'active'"}
    if pipeline == "seed":
        steps = [active, spend, {"op": "groupby", "by": ["user_id"], "agg": AGG}]
    elif pipeline == "filter_sort_head":
        steps = [active, {"op": "sort", "by": ["session_duration"], "ascending": False},
                 {"op": "head", "n": 10}]
    elif pipeline == "merge_groupby":
        sources["users"] = {"format": "parquet", "path": f"cat/{kind}/users.parquet"}
        steps = [spend, {"op": "merge", "right": "users", "on": ["user_id"]},
                 {"op": "groupby", "by": ["plan", "country"],
                  "agg": {"total_spend": "sum", "session_duration": "mean"}}]
    elif pipeline == "groupby_country":
        steps = [spend, {"op": "groupby", "by": ["user_id", "country"], "agg": AGG}]
    elif pipeline == "rows":
        # Categorical columns in the rows themselves, many batches of them.
        steps = [{"op": "filter", "expr": "click_count < 50"}]
    else:
        raise ValueError(pipeline)
    return {"sources": sources, "input": "logs", "steps": steps,
            "output": {"format": fmt, "partition_size": "64KB"}}


def call(path_or_url, body=None):
    url = path_or_url if path_or_url.startswith("http") else BASE + path_or_url
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read()


def run(job_spec):
    job = json.loads(call("/v1/jobs", job_spec))
    while job["state"] in ("queued", "running"):
        time.sleep(0.02)
        job = json.loads(call(f"/v1/jobs/{job['id']}"))
    assert job["state"] == "succeeded", f"{job_spec}: {job['state']}: {job.get('error')}"
    return job


def read_stored(fmt, data):
    """One stored result file: (pyarrow table, pandas frame, polars frame)."""
    if fmt == "parquet":
        return pq.read_table(io.BytesIO(data)), pd.read_parquet(io.BytesIO(data)), pl.read_parquet(data)
    if fmt == "arrow":
        table = pa.ipc.open_file(data).read_all()
        return table, table.to_pandas(), pl.read_ipc(data)
    if fmt == "csv":
        return pacsv.read_csv(io.BytesIO(data)), pd.read_csv(io.BytesIO(data)), pl.read_csv(data)
    if fmt == "json":
        return (pajson.read_json(io.BytesIO(data)), pd.read_json(io.BytesIO(data), lines=True),
                pl.read_ndjson(data))
    raise ValueError(fmt)


def read_download(fmt, data):
    if fmt == "arrow":
        table = pa.ipc.open_stream(data).read_all()
        return table, table.to_pandas(), pl.read_ipc_stream(data)
    if fmt == "json":
        return None, pd.read_json(io.BytesIO(data)), pl.read_json(data)
    return read_stored(fmt, data)


def normal(frame):
    """A pandas frame of any reader, comparable: strings as str, floats rounded, sorted."""
    if isinstance(frame, pl.DataFrame):
        frame = frame.with_columns(pl.col(pl.Categorical).cast(pl.Utf8)).to_pandas()
    elif isinstance(frame, pa.Table):
        frame = frame.to_pandas()
    frame = frame.copy()
    for name in frame.columns:
        if pd.api.types.is_float_dtype(frame[name]):
            frame[name] = frame[name].round(6)
        elif not pd.api.types.is_numeric_dtype(frame[name]):
            frame[name] = frame[name].astype(str)
    columns = list(frame.columns)
    return frame.sort_values(columns).reset_index(drop=True)


def concat(frames):
    return pd.concat([normal(f) for f in frames], ignore_index=True)


def every_reading(job):
    """Name → normalised frame, for every way of reading the job's result."""
    fmt = job["spec"]["output"]["format"]
    out = {}
    stored = [read_stored(fmt, call(f["url"])) for f in job["result"]["files"]]
    for i, library in enumerate(("pyarrow", "pandas", "polars")):
        out[f"stored {fmt} by {library}"] = normal(concat(s[i] for s in stored))
    links = job["result"]["links"]
    downloads = {
        "arrow": links["arrow"],
        "parquet": links["parquet"],
        # No links for these: a Rusk without keys serves loopback callers unsigned.
        "csv": f"/v1/jobs/{job['id']}/result?format=csv",
        "json": f"/v1/jobs/{job['id']}/result?format=json",
    }
    for dl, url in downloads.items():
        read = read_download(dl, call(url))
        for i, library in enumerate(("pyarrow", "pandas", "polars")):
            if read[i] is not None:
                out[f"{dl} download by {library}"] = normal(read[i])
    return out


def check_categories(job, pipeline):
    """Arrow and Parquet keep categoricals: pandas gets `category` with unique categories."""
    links = job["result"]["links"]
    names = [c["name"] for c in job["result"]["schema"]]
    categorical = [n for n in ("status", "country", "plan") if n in names]
    for url, read in ((links["arrow"], lambda d: pa.ipc.open_stream(d).read_all()),
                      (links["parquet"], lambda d: pq.read_table(io.BytesIO(d)))):
        frame = read(call(url)).to_pandas()
        for name in categorical:
            assert isinstance(frame[name].dtype, pd.CategoricalDtype), \
                f"{pipeline}: {name} is {frame[name].dtype}, expected category"
            categories = list(frame[name].cat.categories)
            assert len(categories) == len(set(categories)), f"{pipeline}: repeated categories"
    for column in job["result"]["schema"]:
        if column["name"] in categorical:
            assert column["type"].startswith("Dictionary(Int32"), column


def main():
    write_data()
    checked = 0
    for pipeline in ("seed", "filter_sort_head", "merge_groupby", "groupby_country", "rows"):
        for fmt in FORMATS:
            plain = run(spec(pipeline, "plain", fmt))
            categorical = run(spec(pipeline, "dict", fmt))
            if fmt in ("parquet", "arrow"):
                check_categories(categorical, pipeline)
            expected = every_reading(plain)
            got = every_reading(categorical)
            assert expected.keys() == got.keys()
            for name in expected:
                try:
                    pd.testing.assert_frame_equal(got[name], expected[name], check_dtype=False)
                except AssertionError as e:
                    raise AssertionError(f"{pipeline}, output {fmt}, {name}: {e}") from None
                checked += 1
    print(f"{checked} readings equal between categorical and plain inputs")


if __name__ == "__main__":
    main()
