"""Dask → Rusk: each section of the Dask guide redone as a Rusk job, its result printed and
checked against pandas, Dask or scikit-learn computed here.

usage (from the repository root, with Rusk started there by `cargo run`):
    python examples/dask-to-rusk/migrate.py [--rows 200000] [--files 8] [--prefix dask-to-rusk]

Environment:
    RUSK_URL        Rusk's base URL (default http://127.0.0.1:8080)
    RUSK_API_KEY    API key, if the server has keys (default: none)
    RUSK_DATA_ROOT  the server's data root, where this script writes its example data
                    (default: the current directory, which is the data root of `cargo run`)

It writes under {data root}/{prefix}/: raw/large-data-*.csv (the guide's logs),
training/users-*.csv (a labelled table for the grid search), and Rusk writes
processed/dataset.parquet there. Exits 0 when every result matches; otherwise an
AssertionError names the section.
"""

import argparse
import os
import sys
from pathlib import Path

import dask.dataframe as dd
import numpy as np
import pandas as pd
from rusk_client import Rusk
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, train_test_split

# The guide's grid: 18 candidates × 3 folds.
PARAM_GRID = {"n_estimators": [50, 100, 200], "max_depth": [5, 10, 15], "min_samples_split": [2, 5]}


def section(title: str):
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


def write_data(root: Path, prefix: str, rows: int, files: int, seed: int = 0):
    """The guide's user-interaction logs, and a labelled table to tune a classifier on."""
    rng = np.random.default_rng(seed)
    raw = root / prefix / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for old in raw.glob("large-data-*.csv"):
        old.unlink()
    for i, n in enumerate(np.diff(np.linspace(0, rows, files + 1).astype(int))):
        pd.DataFrame({
            "user_id": rng.integers(0, 1000, n),
            "status": rng.choice(["active", "inactive", "trial"], n),
            "subscription_cost": rng.uniform(0, 100, n).round(2),
            "add_on_cost": rng.uniform(0, 20, n).round(2),
            "session_duration": rng.exponential(600, n).round(1),
            "click_count": rng.integers(0, 100, n),
            "country": rng.choice(["de", "fr", "us", "br", "in", "jp"], n),
        }).to_csv(raw / f"large-data-{i}.csv", index=False)

    # Churn depends on the features (plus 5 % label noise), so the search has something to find.
    training = root / prefix / "training"
    training.mkdir(parents=True, exist_ok=True)
    n = 1500
    users = pd.DataFrame({
        "total_spend": rng.uniform(0, 500, n).round(2),
        "session_duration": rng.exponential(600, n).round(1),
        "click_count": rng.integers(0, 100, n),
        "tenure_months": rng.integers(1, 60, n),
    })
    churned = ((users.click_count < 30) & (users.tenure_months < 24)) | (users.total_spend < 80)
    flip = rng.random(n) < 0.05
    users["target"] = (churned ^ flip).astype(int)
    for i in range(3):
        users.iloc[i * n // 3:(i + 1) * n // 3].to_csv(training / f"users-{i}.csv", index=False)


def read_back_locally(root: Path, pattern: str) -> pd.DataFrame:
    return dd.read_csv(str(root / pattern)).compute().reset_index(drop=True)


def assert_same_rows(actual: pd.DataFrame, expected: pd.DataFrame, keys, what: str):
    assert sorted(actual.columns) == sorted(expected.columns), \
        f"{what}: columns {list(actual.columns)} != {list(expected.columns)}"
    assert len(actual) == len(expected), f"{what}: {len(actual)} rows, expected {len(expected)}"
    actual = actual[list(expected.columns)].sort_values(keys).reset_index(drop=True)
    expected = expected.sort_values(keys).reset_index(drop=True)
    try:
        pd.testing.assert_frame_equal(actual, expected, check_dtype=False, check_exact=False, rtol=1e-9)
    except AssertionError as e:
        raise AssertionError(f"{what}: Rusk's result differs from the local one: {e}") from None


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--prefix", default="dask-to-rusk", help="directory under the data root")
    args = parser.parse_args()
    url = os.environ.get("RUSK_URL", "http://127.0.0.1:8080")
    root = Path(os.environ.get("RUSK_DATA_ROOT", "."))
    write_data(root, args.prefix, args.rows, args.files)
    raw = f"{args.prefix}/raw/large-data-*.csv"
    training = f"{args.prefix}/training/users-*.csv"
    processed = f"{args.prefix}/processed/dataset.parquet"

    section("Setting up the client")
    # Dask: client = Client(n_workers=4); client.dashboard_link
    rusk = Rusk(url, key=os.environ.get("RUSK_API_KEY"))
    print(f"Rusk at {url}; its dashboard: {url}/dashboard; workers: {len(rusk.workers())}")

    section("Reading many CSV files by glob, and head()")
    # Dask: df = dd.read_csv('large-data-*.csv'); print(df); print(df.head())
    logs = {"format": "csv", "path": raw}
    info = rusk.inspect(logs)
    print(f"{info['files']} files, {info['partitions']} partitions")
    print(pd.DataFrame(info["schema"]).to_string(index=False))
    head = pd.DataFrame(info["head"], columns=[f["name"] for f in info["schema"]])
    print(head)
    local = read_back_locally(root, raw)
    assert info["files"] == args.files, f"inspect: {info['files']} files, wrote {args.files}"
    assert [f["name"] for f in info["schema"]] == list(local.columns), "inspect: other columns"
    # The head is rows of the data (which file comes first is Rusk's choice).
    merged = head.merge(local.drop_duplicates(), how="left", indicator=True)
    assert len(head) > 0 and (merged["_merge"] == "both").all(), "inspect: head rows not in the data"

    section("Filter, new column, groupby")
    # Dask: active = df[df.status == 'active']; active['total_spend'] = ...;
    #       active.groupby('user_id').agg({...}).compute()
    job = rusk.submit({
        "name": "user-metrics",
        "sources": {"logs": logs},
        "steps": [
            {"op": "filter", "expr": "status = 'active'"},
            {"op": "assign", "columns": {"total_spend": "subscription_cost + add_on_cost"}},
            {"op": "groupby", "by": ["user_id"],
             "agg": {"total_spend": "sum", "session_duration": "mean", "click_count": "max"}},
        ],
    }).wait(progress=True)
    result = job.to_pandas()
    print(f"Processed {len(result)} unique users.")
    print(result.sort_values("user_id").head())
    df = dd.read_csv(str(root / raw))
    active = df[df["status"] == "active"]
    active = active.assign(total_spend=active["subscription_cost"] + active["add_on_cost"])
    expected = active.groupby("user_id").agg(
        {"total_spend": "sum", "session_duration": "mean", "click_count": "max"}
    ).compute().reset_index()
    assert_same_rows(result, expected, ["user_id"], "groupby")

    section("CSV → Parquet")
    # Dask: dd.read_csv(...).repartition(partition_size='100MB')
    #         .to_parquet('processed/dataset.parquet', engine='pyarrow', compression='snappy')
    job = rusk.submit({
        "name": "csv-to-parquet",
        "sources": {"raw": logs},
        "steps": [{"op": "repartition", "partition_size": "100MB"}],
        "output": {"format": "parquet", "compression": "snappy", "path": processed,
                   "mode": "overwrite"},
    }).wait(progress=True)
    files = job.view["result"]["files"]
    print(f"wrote {job.view['result']['rows']} rows in {len(files)} file(s):")
    for f in files:
        print(f"  {f.get('path')}  {f['rows']} rows, {f['bytes']} bytes")
    # Dask: dd.read_parquet('processed/dataset.parquet'); Rusk reads it back as a source too.
    written = dd.read_parquet(str(root / processed)).compute().reset_index(drop=True)
    assert_same_rows(written, local, list(local.columns), "to_parquet")
    back = rusk.inspect({"format": "parquet", "path": processed})
    print(f"read back by Rusk: {back['files']} file(s), columns "
          f"{[(f['name'], f['type']) for f in back['schema']]}")
    assert [f["name"] for f in back["schema"]] == list(local.columns)

    section("Grid search (GridSearchCV)")
    # Dask: GridSearchCV(RandomForestClassifier(), param_grid, cv=3).fit(X_train, y_train)
    job = rusk.submit({
        "name": "churn-grid-search",
        "sources": {"users": {"format": "csv", "path": training}},
        "steps": [],
        "ml": {"task": "grid_search", "estimator": "random_forest_classifier", "target": "target",
               "param_grid": PARAM_GRID, "cv": 3, "test_size": 0.2, "seed": 0},
    }).wait(progress=True)
    ml = job.view["result"]["ml"]
    print(f"Best Parameters: {ml['best_params']} (mean CV {ml['scoring']} {ml['best_score']:.3f}); "
          f"held out: {ml['metrics']}; model {ml['model_id']}")
    cv = job.to_pandas()
    print(cv.sort_values("rank_test_score").head().to_string(index=False))
    users = read_back_locally(root, training)
    X, y = users.drop(columns="target"), users["target"]
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    search = GridSearchCV(RandomForestClassifier(random_state=0), PARAM_GRID, cv=3, n_jobs=-1)
    search.fit(X_train, y_train)
    print(f"scikit-learn here: {search.best_params_}, mean CV accuracy {search.best_score_:.3f}")
    candidates = len(search.cv_results_["params"])
    assert len(cv) == candidates, f"grid search: {len(cv)} candidates in the CV table, expected {candidates}"
    assert set(ml["best_params"]) == set(PARAM_GRID), f"grid search: best_params {ml['best_params']}"
    # Other splits and another forest implementation: the scores agree, not to the digit.
    assert abs(ml["best_score"] - search.best_score_) < 0.05, \
        f"grid search: best score {ml['best_score']:.3f}, scikit-learn {search.best_score_:.3f}"

    section("Done")
    print("every result matches the local computation")


if __name__ == "__main__":
    sys.exit(main())
