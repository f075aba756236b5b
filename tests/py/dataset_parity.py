"""A Parquet dataset Rusk wrote to an output.path, read back by pandas and by Dask as the
guide does (`pd.read_parquet(dir)`, `dd.read_parquet(dir)`), equals the CSV files it was
converted from, read by pandas.

usage: dataset_parity.py CSV_DIR DATASET_DIR...
"""
import glob
import os
import sys

import dask.dataframe as dd
import pandas as pd


def normal(frame):
    frame = frame.copy()
    for name in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            frame[name] = frame[name].astype(str)
    columns = sorted(frame.columns)
    return frame[columns].sort_values(columns).reset_index(drop=True)


def main():
    csv_dir, datasets = sys.argv[1], sys.argv[2:]
    source = pd.concat(pd.read_csv(f) for f in sorted(glob.glob(os.path.join(csv_dir, "*.csv"))))
    expected = normal(source)
    for dataset in datasets:
        readers = {
            "pandas": lambda: pd.read_parquet(dataset),
            "dask": lambda: dd.read_parquet(dataset).compute(),
        }
        for name, read in readers.items():
            got = normal(read())
            pd.testing.assert_frame_equal(got, expected, check_dtype=False, obj=f"{name} {dataset}")
            print(f"{name}: {dataset}: {len(got)} rows equal to the input")


if __name__ == "__main__":
    main()
