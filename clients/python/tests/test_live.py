"""rusk_client against a live Rusk: the Dask guide's pipeline end to end, errors, idempotency.

Expected answers are computed here with pandas from the same files the server reads.
Environment: see conftest.py.
"""

import uuid

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from rusk_client import JobFailed, RuskError

FILES = 4
ROWS_PER_FILE = 5000
USERS = 400


@pytest.fixture(scope="module")
def logs(data_dir):
    """The guide's `large-data-*.csv` files: user interaction logs, seeded."""
    path, relative = data_dir
    rng = np.random.default_rng(19)
    for i in range(FILES):
        n = ROWS_PER_FILE
        frame = pd.DataFrame(
            {
                "user_id": rng.integers(0, USERS, n),
                "status": rng.choice(["active", "inactive", "trial"], n, p=[0.6, 0.25, 0.15]),
                "subscription_cost": rng.uniform(5, 50, n).round(2),
                "add_on_cost": rng.uniform(0, 20, n).round(2),
                "session_duration": rng.exponential(300, n).round(1),
                "click_count": rng.integers(0, 200, n),
            }
        )
        # Some missing add-ons and sessions: empty CSV cells, null in Rusk, NaN in pandas.
        frame.loc[rng.random(n) < 0.03, "add_on_cost"] = np.nan
        frame.loc[rng.random(n) < 0.03, "session_duration"] = np.nan
        frame.to_csv(path / f"large-data-{i}.csv", index=False)
    return path, f"{relative}/large-data-*.csv"


def guide_spec(glob):
    return {
        "name": "user-metrics",
        "sources": {"logs": {"format": "csv", "path": glob}},
        "steps": [
            {"op": "filter", "expr": "status = 'active'"},
            {"op": "assign", "columns": {"total_spend": "subscription_cost + add_on_cost"}},
            {
                "op": "groupby",
                "by": ["user_id"],
                "agg": {"total_spend": "sum", "session_duration": "mean", "click_count": "max"},
            },
        ],
    }


def pandas_answer(path):
    """The guide's pipeline, run by pandas itself."""
    df = pd.concat([pd.read_csv(f) for f in sorted(path.glob("large-data-*.csv"))], ignore_index=True)
    active = df[df["status"] == "active"].copy()
    active["total_spend"] = active["subscription_cost"] + active["add_on_cost"]
    metrics = active.groupby("user_id").agg({"total_spend": "sum", "session_duration": "mean", "click_count": "max"})
    return metrics.reset_index()


def by_user(frame):
    return frame.sort_values("user_id").reset_index(drop=True)


def assert_same(got, expected):
    pd.testing.assert_frame_equal(by_user(got), by_user(expected), check_dtype=False, rtol=1e-9)


@pytest.fixture(scope="module")
def guide_job(rusk, logs):
    job = rusk.submit(guide_spec(logs[1]))
    assert job.state in ("queued", "running", "succeeded")
    return job.wait(progress=True)


def test_guide_pipeline_to_pandas(guide_job, logs):
    assert guide_job.state == "succeeded"
    got = guide_job.to_pandas()
    expected = pandas_answer(logs[0])
    assert list(got.columns) == list(expected.columns)
    assert_same(got, expected)
    assert guide_job.view["result"]["rows"] == len(expected)


def test_guide_pipeline_to_arrow_and_polars(guide_job, logs):
    expected = pandas_answer(logs[0])
    table = guide_job.to_arrow()
    assert isinstance(table, pa.Table)
    assert_same(table.to_pandas(), expected)
    frame = guide_job.to_polars()
    assert isinstance(frame, pl.DataFrame)
    assert_same(frame.to_pandas(), expected)


def test_progress_reached_the_end(guide_job):
    progress = guide_job.view["progress"]
    assert progress["partitions_total"] >= 1
    assert progress["partitions_done"] == progress["partitions_total"]
    assert progress["rows_read"] == FILES * ROWS_PER_FILE


def test_job_lookup_and_listing(rusk, guide_job):
    again = rusk.job(guide_job.id)
    assert again.id == guide_job.id and again.state == "succeeded"
    assert again.view["attempt_log"][-1]["outcome"] == "succeeded"
    assert guide_job.id in [job.id for job in rusk.jobs(state="succeeded")]
    assert guide_job.id not in [job.id for job in rusk.jobs(state="failed")]


def test_unknown_column_is_invalid_spec(rusk, logs):
    spec = guide_spec(logs[1])
    spec["steps"][0]["expr"] = "no_such_column = 'active'"
    with pytest.raises(RuskError) as caught:
        rusk.submit(spec)
    error = caught.value
    assert (error.status, error.code) == (422, "invalid_spec")
    assert error.path == "steps[0].expr"
    assert error.details and error.details[0]["path"] == "steps[0].expr"
    assert "no_such_column" in error.message


def test_unknown_op_is_invalid_spec(rusk, logs):
    spec = guide_spec(logs[1])
    spec["steps"].append({"op": "pivot", "columns": ["user_id"]})
    with pytest.raises(RuskError) as caught:
        rusk.submit(spec)
    error = caught.value
    assert (error.status, error.code) == (422, "invalid_spec")
    assert error.path == "steps[3].op"
    assert "pivot" in error.message


def test_failing_job_raises_job_failed(rusk, data_dir):
    path, relative = data_dir
    # Declared int64, but one cell is not a number: found only when the job reads it.
    rows = ["user_id,click_count"] + [f"{i},{i}" for i in range(2000)] + ["2000,many"]
    (path / "bad.csv").write_text("\n".join(rows) + "\n")
    spec = {
        "sources": {
            "logs": {"format": "csv", "path": f"{relative}/bad.csv", "options": {"dtype": {"click_count": "int64"}}}
        },
        "steps": [{"op": "groupby", "by": ["user_id"], "agg": {"click_count": "sum"}}],
    }
    job = rusk.submit(spec)
    with pytest.raises(JobFailed) as caught:
        job.wait(progress=False)
    failed = caught.value
    assert failed.code == "data_error"
    assert "many" in failed.message
    assert failed.job.state == "failed" and failed.job.id == job.id
    with pytest.raises(RuskError) as no_result:
        job.to_pandas()
    assert no_result.value.code == "job_not_succeeded"


def test_inspect_returns_the_schema(rusk, logs):
    path, glob = logs
    info = rusk.inspect({"format": "csv", "path": glob}, n=5)
    first = pd.read_csv(path / "large-data-0.csv")
    assert [column["name"] for column in info["schema"]] == list(first.columns)
    types = {column["name"]: column["type"] for column in info["schema"]}
    assert types["user_id"] == "Int64" and types["status"] == "Utf8"
    assert types["subscription_cost"] == "Float64"
    assert info["files"] == FILES
    assert len(info["head"]) == 5


def test_explain(rusk, logs):
    plan = rusk.explain(guide_spec(logs[1]))
    assert "user_id" in plan["logical"]
    assert plan["physical"]
    assert plan["graph"]["nodes"]


def test_idempotency_key_returns_the_same_job(rusk, logs):
    key = f"client-test-{uuid.uuid4()}"
    first = rusk.submit(guide_spec(logs[1]), idempotency_key=key)
    second = rusk.submit(guide_spec(logs[1]), idempotency_key=key)
    assert first.id == second.id
    other = guide_spec(logs[1])
    other["name"] = "another"
    with pytest.raises(RuskError) as caught:
        rusk.submit(other, idempotency_key=key)
    assert (caught.value.status, caught.value.code) == (422, "idempotency_key_reused")
    first.wait(progress=False)


def test_not_found(rusk):
    with pytest.raises(RuskError) as caught:
        rusk.job(str(uuid.uuid4()))
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    assert caught.value.path is None


def test_cancel(rusk, logs):
    job = rusk.submit(guide_spec(logs[1]))
    try:
        job.cancel()
    except RuskError as e:
        # It may have finished before the cancel arrived.
        assert (e.status, e.code) == (409, "job_already_ended")
        assert job.refresh().state == "succeeded"
        return
    with pytest.raises(JobFailed) as caught:
        job.wait(progress=False)
    assert caught.value.job.state == "cancelled"


def test_workers(rusk):
    workers = rusk.workers()
    assert workers, "the server should run at least one worker"
    assert all(worker["slots"] >= 1 for worker in workers)


def test_models(rusk, logs):
    spec = {
        "sources": {"logs": {"format": "csv", "path": logs[1]}},
        "steps": [{"op": "filter", "expr": "session_duration IS NOT NULL"}],
        "ml": {
            "task": "fit",
            "estimator": "linear_regression",
            "target": "session_duration",
            "features": ["subscription_cost", "click_count"],
            "seed": 0,
        },
    }
    job = rusk.submit(spec).wait(progress=False)
    model_id = job.view["result"]["ml"]["model_id"]
    models = {model["id"]: model for model in rusk.models()}
    assert models[model_id]["features"] == ["subscription_cost", "click_count"]
    assert models[model_id]["job_id"] == job.id


def test_generated_layer_directly(rusk, guide_job):
    """One call through the generated functions and models, not the convenience layer."""
    from rusk_client.generated.api.jobs import list_jobs
    from rusk_client.generated.api.workers import list_workers
    from rusk_client.generated.models import JobPage, JobState, WorkerList

    workers = list_workers.sync(client=rusk.client)
    assert isinstance(workers, WorkerList) and workers.workers

    page = list_jobs.sync(client=rusk.client, state=JobState.SUCCEEDED, limit=1000)
    assert isinstance(page, JobPage)
    assert guide_job.id in [str(job.id) for job in page.jobs]
