"""Live tests of rusk_client against a running Rusk.

Environment:
  RUSK_URL        base URL of the server, e.g. http://127.0.0.1:8080
  RUSK_DATA_ROOT  the server's data root (--data-root); the tests write their CSV files there
  RUSK_API_KEY    an API key, when the server has keys (optional)

Run: RUSK_URL=... RUSK_DATA_ROOT=... python -m pytest -q clients/python/tests
The tests import rusk_client from this source tree (no install step needed).
"""

import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rusk_client import Rusk  # noqa: E402

URL = os.environ.get("RUSK_URL")
DATA_ROOT = os.environ.get("RUSK_DATA_ROOT")
if not URL or not DATA_ROOT:
    pytest.exit(
        "set RUSK_URL (e.g. http://127.0.0.1:8080) and RUSK_DATA_ROOT (the server's --data-root)",
        returncode=2,
    )


@pytest.fixture(scope="session")
def rusk():
    with Rusk(URL, key=os.environ.get("RUSK_API_KEY") or None) as client:
        yield client


@pytest.fixture(scope="session")
def data_dir():
    """A fresh directory under the data root; returns (absolute path, path relative to the root)."""
    relative = f"rusk-client-tests/{uuid.uuid4().hex}"
    path = Path(DATA_ROOT) / relative
    path.mkdir(parents=True)
    yield path, relative
    shutil.rmtree(path, ignore_errors=True)
