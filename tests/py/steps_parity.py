"""The row-order and reshaping steps (shift, diff, pct_change, cumsum/cummax/cummin, cumcount,
rank, nlargest/nsmallest, rolling, ewm, groupby transform, resample, map, melt, explode,
pivot_table, get_dummies, merge_asof, CSV times with a time zone) against pandas' own answers, on
CSV files with nulls, ties and rows out of order, split over several files.

usage: steps_parity.py RUSK_URL DATA_ROOT
Writes its files under DATA_ROOT/parity/, runs each case as a Rusk job, prints one line per
case and exits 1 if any differs.
"""

import io
import json
import os
import sys
import time
import urllib.request

import numpy as np
import pandas as pd
import pyarrow as pa

URL, ROOT = sys.argv[1], sys.argv[2]


def write_data():
    rng = np.random.default_rng(7)
    n = 600
    df = pd.DataFrame({
        "t": rng.permutation(n),  # the order; unique, and shuffled across files
        "g": rng.integers(1, 5, n),
        "s": rng.choice(["a", "b", "c"], n),
        "k": rng.integers(0, 6, n),  # many ties
        "x": np.round(rng.normal(10, 3, n), 1),  # some ties
        "c": rng.choice(["red", "green", "blue", None], n),
        # Two months of minutes: hours, weeks and months with and without rows.
        "ts": pd.Timestamp("2024-01-01")
        + pd.to_timedelta(rng.choice(60 * 24 * 60, n, replace=False), unit="min"),
    })
    df.loc[rng.choice(n, 60, replace=False), "x"] = np.nan
    os.makedirs(os.path.join(ROOT, "parity"), exist_ok=True)
    for i, rows in enumerate(np.array_split(np.arange(n), 4)):
        df.iloc[rows].to_csv(os.path.join(ROOT, "parity", f"part-{i}.csv"), index=False)
    return df


CSV = {"format": "csv", "path": "parity/*.csv", "options": {"dtype": {"ts": "datetime64[ns]"}}}


def run(steps, source=CSV):
    sources = source if "d" in source else {"d": source}
    spec = {"sources": sources, "steps": steps, "input": "d"}
    request = urllib.request.Request(f"{URL}/v1/jobs", data=json.dumps(spec).encode(),
                                     headers={"content-type": "application/json"})
    try:
        job = json.load(urllib.request.urlopen(request))
    except urllib.error.HTTPError as e:
        raise AssertionError(f"refused: {e.read().decode()}")
    while job["state"] not in ("succeeded", "failed", "cancelled"):
        time.sleep(0.05)
        job = json.load(urllib.request.urlopen(f"{URL}/v1/jobs/{job['id']}"))
    if job["state"] != "succeeded":
        raise AssertionError(f"job {job['state']}: {job.get('error')}")
    body = urllib.request.urlopen(job["result"]["links"]["arrow"]).read()
    return pa.ipc.open_stream(io.BytesIO(body)).read_all().to_pandas()


def same(ours, theirs, key, columns):
    if "ts" in theirs and pd.api.types.is_datetime64_any_dtype(theirs["ts"]):
        ours = ours.assign(ts=pd.to_datetime(ours["ts"]).astype("datetime64[ns]"))
        theirs = theirs.assign(ts=theirs["ts"].astype("datetime64[ns]"))
    ours = ours.sort_values(key).reset_index(drop=True)
    theirs = theirs.sort_values(key).reset_index(drop=True)
    assert len(ours) == len(theirs), f"{len(ours)} rows against pandas' {len(theirs)}"
    for c in columns:
        a, b = ours[c], theirs[c]
        if pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(b):
            a, b = a.astype("float64").to_numpy(), b.astype("float64").to_numpy()
            assert np.array_equal(np.isnan(a), np.isnan(b)), f"{c}: nulls differ"
            assert np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-9, atol=1e-12), \
                f"{c}: values differ\n{ours[[key, c]].head(12)}\n{theirs[[key, c]].head(12)}"
        elif pd.api.types.is_datetime64_any_dtype(b):
            assert list(a) == list(b), f"{c}: times differ\n{a.head()}\n{b.head()}"
        else:
            assert list(a.astype(object).where(a.notna(), None)) == \
                list(b.astype(object).where(b.notna(), None)), f"{c}: values differ"


def main():
    df = write_data()
    ordered = df.sort_values("t")
    cases = []

    def case(name, steps, expected, key="t", columns=None, source=CSV):
        cases.append((name, steps, expected, key, columns, source))

    e = ordered.copy()
    e[["x", "k"]] = ordered.groupby("g")[["x", "k"]].shift(1)
    case("shift by group", [{"op": "shift", "columns": ["x", "k"], "order_by": "t", "by": "g"}], e)
    e = ordered.copy()
    e["x"] = ordered["x"].shift(-2)
    case("shift back, whole frame", [{"op": "shift", "columns": "x", "periods": -2, "order_by": "t"}], e)
    e = ordered.copy()
    e[["x", "k"]] = ordered.groupby("g")[["x", "k"]].diff()
    case("diff", [{"op": "diff", "columns": ["x", "k"], "order_by": "t", "by": "g"}], e)
    e = ordered.copy()
    e["x"] = ordered.groupby("g")["x"].pct_change()
    case("pct_change", [{"op": "pct_change", "columns": "x", "order_by": "t", "by": "g"}], e)
    e = ordered.copy()
    e[["x", "k"]] = ordered.groupby("g")[["x", "k"]].cumsum()
    case("cumsum", [{"op": "cumsum", "columns": ["x", "k"], "order_by": "t", "by": "g"}], e)
    e = ordered.copy()
    e["x"] = ordered["x"].cummax()
    e["k"] = ordered["k"].cummin()
    case("cummax, cummin", [{"op": "cummax", "columns": "x", "order_by": "t"},
                            {"op": "cummin", "columns": "k", "order_by": "t"}], e)
    e = ordered.copy()
    e["cumcount"] = ordered.groupby("g").cumcount()
    case("cumcount", [{"op": "cumcount", "order_by": "t", "by": "g"}], e)
    for method in ["average", "min", "max", "dense"]:
        e = df.copy()
        e["x"] = df.groupby("g")["x"].rank(method=method)
        e["k"] = df.groupby("g")["k"].rank(method=method)
        case(f"rank {method}", [{"op": "rank", "columns": ["x", "k"], "method": method, "by": "g"}], e)
    e = ordered.copy()
    e["k"] = ordered.groupby("g")["k"].rank(method="first")
    case("rank first", [{"op": "rank", "columns": "k", "method": "first", "by": "g", "order_by": "t"}], e)
    e = df.copy()
    e["x"] = df["x"].rank(method="min", ascending=False)
    case("rank descending", [{"op": "rank", "columns": "x", "method": "min", "ascending": False}], e)
    e = ordered.copy()
    e["x"] = ordered.groupby("g")["x"].rolling(3).mean().reset_index(level=0, drop=True)
    e["k"] = ordered.groupby("g")["k"].rolling(2, min_periods=1).sum().reset_index(level=0, drop=True)
    case("rolling mean and sum", [
        {"op": "rolling", "columns": "x", "window": 3, "agg": "mean", "order_by": "t", "by": "g"},
        {"op": "rolling", "columns": "k", "window": 2, "agg": "sum", "min_periods": 1,
         "order_by": "t", "by": "g"}], e)
    e = ordered.copy()
    # The sample std of each window's values, exactly (pandas' own online sum leaves noise
    # where it should give 0).
    e["x"] = ordered["x"].rolling(4, min_periods=1).apply(
        lambda w: np.std(w[~np.isnan(w)], ddof=1) if (~np.isnan(w)).sum() >= 2 else np.nan, raw=True)
    case("rolling std", [{"op": "rolling", "columns": "x", "window": 4, "agg": "std",
                          "min_periods": 2, "order_by": "t"}], e)
    by_time = df.sort_values("ts")
    e = by_time.copy()
    e["x"] = by_time.rolling("2D", on="ts")["x"].mean()
    e["k"] = pd.concat(grp.rolling("12h", on="ts")["k"].sum() for _, grp in by_time.groupby("g"))
    case("rolling over time spans", [
        {"op": "rolling", "columns": "x", "window": "2D", "agg": "mean", "order_by": "ts"},
        {"op": "rolling", "columns": "k", "window": "12h", "agg": "sum", "order_by": "ts",
         "by": "g"}], e)
    e = df.copy()
    e["x"] = df.groupby("g")["x"].transform("mean")
    e["k"] = df.groupby("g")["k"].transform("sum")
    case("groupby transform", [{"op": "groupby", "by": "g", "transform": {"x": "mean", "k": "sum"}}], e)
    e = df.copy()
    e["s"] = df["s"].map({"a": "alpha", "b": "beta"}).fillna("other")
    e["g"] = df["g"].map({1: 10, 2: 20})
    case("map", [{"op": "map", "column": "s", "mapping": {"a": "alpha", "b": "beta"}, "default": "other"},
                 {"op": "map", "column": "g", "mapping": {"1": 10, "2": 20}}], e,
         columns=["s", "g"])
    melted = pd.melt(df, id_vars=["t"], value_vars=["x", "k"])
    melted["key"] = melted["t"].astype(str) + melted["variable"]
    case("melt", [{"op": "melt", "id_vars": "t", "value_vars": ["x", "k"]},
                  {"op": "assign", "columns": {"key": "CAST(t AS VARCHAR) || variable"}}],
         melted, key="key", columns=["t", "variable", "value"])

    e = df.resample("1h", on="ts").agg({"x": "sum", "k": "mean"}).reset_index()
    case("resample 1h", [{"op": "resample", "on": "ts", "rule": "1h",
                          "agg": {"x": "sum", "k": "mean"}}], e, key="ts")
    e = df.groupby("g").resample("W", on="ts").agg({"x": "count", "k": ["sum", "max"]})
    e.columns = ["x", "k_sum", "k_max"]
    e = e.reset_index()
    case("resample W by group", [{"op": "resample", "on": "ts", "rule": "W", "by": "g",
                                  "agg": {"x": "count", "k": ["sum", "max"]}}], e, key=["g", "ts"])
    e = df.resample("MS", on="ts").agg({"x": "mean"}).reset_index()
    case("resample MS", [{"op": "resample", "on": "ts", "rule": "MS", "agg": {"x": "mean"}}],
         e, key="ts")
    e = df[df.g == 1].resample("15min", on="ts").agg({"k": "size"}).reset_index()
    case("resample 15min size", [{"op": "filter", "expr": "g = 1"},
                                 {"op": "resample", "on": "ts", "rule": "15min", "agg": {"k": "size"}}],
         e, key="ts")

    e = ordered.copy()
    e["x"] = ordered.groupby("g")["x"].transform(lambda s: s.ewm(span=5).mean())
    case("ewm span by group", [{"op": "ewm", "columns": "x", "span": 5, "order_by": "t", "by": "g"}], e)
    e = ordered.copy()
    e["x"] = ordered["x"].ewm(alpha=0.3, adjust=False, ignore_na=True, min_periods=3).mean()
    e["k"] = ordered["k"].ewm(halflife=2.5).mean()
    case("ewm alpha, halflife", [
        {"op": "ewm", "columns": "x", "alpha": 0.3, "adjust": False, "ignore_na": True,
         "min_periods": 3, "order_by": "t"},
        {"op": "ewm", "columns": "k", "halflife": 2.5, "order_by": "t"}], e)

    e = pd.pivot_table(df, index="g", columns="c", values="x", aggfunc="mean").reset_index()
    e.columns = [str(c) for c in e.columns]
    case("pivot_table mean", [{"op": "pivot_table", "index": "g", "columns": "c", "values": "x"}],
         e, key="g")
    e = pd.pivot_table(df, index=["g", "s"], columns="k", values=["x", "t"], aggfunc="sum",
                       fill_value=0)
    e.columns = [f"{v}_{k}" for v, k in e.columns]
    e = e.reset_index()
    e["key"] = e["g"].astype(str) + e["s"]
    case("pivot_table sum, two values, fill", [
        {"op": "pivot_table", "index": ["g", "s"], "columns": "k", "values": ["x", "t"],
         "aggfunc": "sum", "fill_value": 0},
        {"op": "assign", "columns": {"key": "CAST(g AS VARCHAR) || s"}}], e, key="key")
    e = pd.pivot_table(df[df.t < 80], index="k", columns="s", values="x", aggfunc="count")
    e.columns = [str(c) for c in e.columns]
    e = e.reset_index()
    case("pivot_table count with empty cells", [
        {"op": "filter", "expr": "t < 80"},
        {"op": "pivot_table", "index": "k", "columns": "s", "values": "x", "aggfunc": "count"}],
         e, key="k")
    e = pd.get_dummies(df, columns=["c", "g"])
    case("get_dummies", [{"op": "get_dummies", "columns": ["c", "g"]}], e)
    e = pd.get_dummies(df, columns=["s"], prefix="kind", prefix_sep="=")
    case("get_dummies with a prefix", [{"op": "get_dummies", "columns": "s", "prefix": "kind",
                                        "prefix_sep": "="}], e)

    e = df.resample("7h", on="ts").agg({"x": "sum", "k": "max"}).reset_index()
    case("resample 7h", [{"op": "resample", "on": "ts", "rule": "7h",
                          "agg": {"x": "sum", "k": "max"}}], e, key="ts")
    e = df.groupby("g").resample("2D", on="ts").agg({"x": "mean"}).reset_index()
    case("resample 2D by group", [{"op": "resample", "on": "ts", "rule": "2D", "by": "g",
                                   "agg": {"x": "mean"}}], e, key=["g", "ts"])

    # Quotes to join as of each row's time: unique times on the same minute grid, so some are
    # exact matches and some are equally far on both sides.
    qr = np.random.default_rng(11)
    quotes = pd.DataFrame({
        "ts": pd.Timestamp("2024-01-01")
        + pd.to_timedelta(np.sort(qr.choice(60 * 24 * 60, 900, replace=False)), unit="min"),
        "g": qr.integers(1, 5, 900),
        "x": np.round(qr.normal(0, 1, 900), 2),
        "n": np.arange(900) * 10,
    })
    quotes.iloc[::-1].to_csv(os.path.join(ROOT, "parity-quotes.csv"), index=False)
    with_quotes = {"d": CSV, "q": {"format": "csv", "path": "parity-quotes.csv",
                                   "options": {"parse_dates": ["ts"]}}}
    left = df.sort_values("ts")
    for direction, tolerance in [("backward", None), ("forward", "3h"), ("nearest", "90min")]:
        e = pd.merge_asof(left, quotes, on="ts", by="g", direction=direction,
                          tolerance=pd.Timedelta(tolerance) if tolerance else None)
        step = {"op": "merge_asof", "right": "q", "on": "ts", "by": "g", "direction": direction}
        if tolerance:
            step["tolerance"] = tolerance
        case(f"merge_asof {direction}", [step], e, source=with_quotes)
    numbered = pd.DataFrame({"t": quotes["n"] // 7, "x": quotes["x"]})
    numbered.iloc[::-1].to_csv(os.path.join(ROOT, "parity-quotes-n.csv"), index=False)
    e = pd.merge_asof(ordered, numbered, on="t", direction="forward", tolerance=3)
    case("merge_asof on numbers", [
        {"op": "merge_asof", "right": "q", "on": "t", "direction": "forward", "tolerance": 3}],
         e, source={"d": CSV, "q": {"format": "csv", "path": "parity-quotes-n.csv"}})

    # Local times across the spring change in Paris (2024-03-31, 02:00 → 03:00), and instants
    # written with their offset.
    local = pd.date_range("2024-03-29", "2024-04-02 23:00", freq="37min")
    local = local[~((local >= "2024-03-31 02:00") & (local < "2024-03-31 03:00"))]
    times = pd.DataFrame({"local": local.strftime("%Y-%m-%d %H:%M:%S"),
                          "v": np.arange(len(local)) % 11})
    times["stamped"] = (pd.DatetimeIndex(local).tz_localize("Asia/Tokyo")
                        .strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(r"(\d\d)$", r":\1", regex=True))
    times.to_csv(os.path.join(ROOT, "parity-times.csv"), index=False)
    zoned = times.assign(
        local=pd.to_datetime(times["local"]).dt.tz_localize("Europe/Paris"),
        stamped=pd.to_datetime(times["stamped"], utc=True).dt.tz_convert("Europe/Paris"))
    timed = {"format": "csv", "path": "parity-times.csv",
             "options": {"parse_dates": ["local", "stamped"], "tz": "Europe/Paris"}}
    case("parse_dates with tz", [{"op": "select", "columns": ["local", "stamped", "v"]}], zoned,
         key="local", source=timed)
    e = zoned.resample("1D", on="local").agg({"v": "sum"}).reset_index()
    case("resample 1D in local days", [{"op": "resample", "on": "local", "rule": "1D",
                                        "agg": {"v": "sum"}}], e, key="local", source=timed)

    # The selection helpers are expressions (docs/user-guide.md): with missing values as pandas
    # treats them.
    e = df.assign(
        clipped=df["x"].clip(8, 12),
        rounded=df["x"].round(0),
        member=df["x"].isin([10.0, 11.0]),
        inside=df["x"].between(8, 12),
        kept=df["x"].where(df["k"] > 2),
        masked=df["x"].mask(df["k"] > 2),
    )
    case("isin, between, where, mask, clip, round", [{"op": "assign", "columns": {
        "clipped": "CASE WHEN x IS NOT NULL THEN greatest(least(x, 12), 8) END",
        "rounded": "CASE WHEN abs(x - trunc(x)) = 0.5 THEN 2 * round(x / 2) ELSE round(x) END",
        "member": "coalesce(x IN (10.0, 11.0), false)",
        "inside": "coalesce(x BETWEEN 8 AND 12, false)",
        "kept": "CASE WHEN k > 2 THEN x END",
        "masked": "CASE WHEN k > 2 THEN NULL ELSE x END",
    }}], e, columns=["clipped", "rounded", "member", "inside", "kept", "masked"])

    lists = pd.DataFrame({"id": [1, 2, 3, 4, 5],
                          "tags": [["a", "b"], [], None, ["c"], ["d", "e", "f"]],
                          "n": [10, 20, 30, 40, 50]})
    lists.to_parquet(os.path.join(ROOT, "parity-lists.parquet"))
    e = lists.explode("tags")
    e["key"] = e["id"].astype(str) + e["tags"].fillna("-")
    case("explode", [{"op": "explode", "column": "tags"},
                     {"op": "assign", "columns": {"key": "CAST(id AS VARCHAR) || coalesce(tags, '-')"}}],
         e, key="key", columns=["id", "tags", "n"],
         source={"format": "parquet", "path": "parity-lists.parquet"})

    failures = 0
    for name, steps, expected, key, columns, source in cases:
        try:
            ours = run(steps, source)
            same(ours, expected, key, columns or list(expected.columns))
            print(f"ok    {name}")
        except AssertionError as error:
            failures += 1
            print(f"FAIL  {name}: {error}")

    # Top n: ties make which rows are kept open, not which values.
    for name, steps, pick in [
        ("nlargest by group", [{"op": "nlargest", "n": 3, "columns": "x", "by": "g"}],
         lambda: df.dropna(subset=["x"]).sort_values("x", ascending=False).groupby("g").head(3)),
        ("nsmallest", [{"op": "nsmallest", "n": 5, "columns": ["k", "x"]}],
         lambda: df.nsmallest(5, ["k", "x"])),
    ]:
        try:
            ours, theirs = run(steps), pick()
            cols = ["g", "x"] if "by" in steps[0] else ["k", "x"]
            a = sorted(map(tuple, ours[cols].astype(float).to_numpy().tolist()))
            b = sorted(map(tuple, theirs[cols].astype(float).to_numpy().tolist()))
            assert a == b, f"{a} against pandas' {b}"
            print(f"ok    {name}")
        except AssertionError as error:
            failures += 1
            print(f"FAIL  {name}: {error}")
    print(f"{len(cases) + 2 - failures} of {len(cases) + 2} cases agree with pandas")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
