"""Shared by the examples' tests, which run against a live Rusk (fixtures: conftest.py).

Environment:
    RUSK_URL              the server's base URL, e.g. http://127.0.0.1:34567 (required)
    RUSK_DATA_ROOT        the server's data root; the tests write their source files there
                          (required)
    RUSK_WEBHOOK_SECRET   the whsec_... secret the server signs webhooks with (the FastAPI test;
                          the server must also have RUSK_WEBHOOK_ALLOW covering 127.0.0.0/8)

Run from the repository root: python -m pytest -q examples/tests
"""

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CLIENT = REPO / "clients" / "python"

# The examples import rusk_client; use the checkout's copy when it is not installed.
try:
    import rusk_client  # noqa: F401
except ImportError:
    sys.path.insert(0, str(CLIENT))


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"set {name}: these tests run against a live Rusk (examples/tests/examples_support.py)")
    return value


def subprocess_env(**extra) -> dict:
    """The environment for an example run as its own process: it finds rusk_client too."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(CLIENT), env.get("PYTHONPATH")] if p)
    return env


class Logs:
    """The Dask guide's logs as CSV files under the data root, and pandas' own copy."""

    def __init__(self, glob: str, frame: pd.DataFrame):
        self.glob = glob
        self.frame = frame


def assert_frames_match(actual: pd.DataFrame, expected: pd.DataFrame, keys: list[str]):
    """Same columns, same rows (in key order), values equal up to float rounding."""
    assert sorted(actual.columns) == sorted(expected.columns), (list(actual.columns), list(expected.columns))
    actual = actual[list(expected.columns)].sort_values(keys).reset_index(drop=True)
    expected = expected.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False, check_exact=False, rtol=1e-9)
