"""Checks Rusk's seed-pipeline results against pandas on the same CSV files.

Usage: seed_parity.py DATA_ROOT RESULT.arrows RESULT.parquet
Exits non-zero, with the difference, when pandas disagrees.
"""
import glob
import sys

import pandas as pd
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

root, arrow_path, parquet_path = sys.argv[1:4]

logs = pd.concat(pd.read_csv(f) for f in sorted(glob.glob(f"{root}/logs/large-data-*.csv")))
active = logs[logs["status"] == "active"].copy()
active["total_spend"] = active["subscription_cost"] + active["add_on_cost"]
expected = (
    active.groupby("user_id")
    .agg({"total_spend": "sum", "session_duration": "mean", "click_count": "max"})
    .reset_index()
    .sort_values("user_id")
    .reset_index(drop=True)
)

with open(arrow_path, "rb") as f:
    from_arrow = ipc.open_stream(f).read_all().to_pandas()
from_parquet = pq.read_table(parquet_path).to_pandas()

for name, got in [("arrow", from_arrow), ("parquet", from_parquet)]:
    got = got.sort_values("user_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-9)
    print(f"{name}: {len(got)} rows agree with pandas")
