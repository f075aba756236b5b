"""Fixtures for the examples' tests; the environment they need is in examples_support.py."""

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pandas as pd
import pytest

from examples_support import REPO, Logs, required_env


@pytest.fixture(scope="session")
def rusk_url() -> str:
    return required_env("RUSK_URL").rstrip("/")


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = Path(required_env("RUSK_DATA_ROOT"))
    if not root.is_dir():
        pytest.fail(f"RUSK_DATA_ROOT={root} is not a directory")
    return root


@pytest.fixture(scope="session")
def scratch(data_root):
    """A directory of this test run's own under the data root, as (relative name, path)."""
    name = f"examples-test-{uuid.uuid4().hex[:8]}"
    path = data_root / name
    path.mkdir()
    yield name, path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def logs(scratch) -> Logs:
    name, path = scratch
    out = path / "logs"
    # The repository's generator (bench/gen_logs.py), small: several files, few users, so
    # groups have many rows each.
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "gen_logs.py"), str(out), "--rows", "20000",
         "--files", "4", "--users", "300", "--format", "csv", "--seed", "7"],
        check=True, capture_output=True,
    )
    files = sorted(out.glob("large-data-*.csv"))
    frame = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    return Logs(f"{name}/logs/large-data-*.csv", frame)


