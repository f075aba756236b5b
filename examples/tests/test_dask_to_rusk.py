"""The Dask → Rusk script, run as its README says, against a live Rusk: it checks each result
against pandas, Dask and scikit-learn itself and exits non-zero on a mismatch."""

import subprocess
import sys

from examples_support import EXAMPLES, subprocess_env


def test_migrate_script(rusk_url, data_root, scratch):
    name, _ = scratch
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "dask-to-rusk" / "migrate.py"),
         "--prefix", f"{name}/dask-to-rusk"],
        env=subprocess_env(RUSK_URL=rusk_url, RUSK_DATA_ROOT=str(data_root)),
        capture_output=True, text=True, check=False,
    )
    print(run.stdout)
    assert run.returncode == 0, f"migrate.py exited with {run.returncode}:\n{run.stdout}\n{run.stderr}"
    assert "every result matches" in run.stdout
