"""The Dask guide's pipeline as a Streamlit app: pick a source, look at it, build
filter → new column → groupby with widgets, run it on Rusk with a live progress bar, then see
the result as a table and a chart.

Run from the repository root (Rusk started there with `cargo run`):
    pip install -r examples/streamlit/requirements.txt
    streamlit run examples/streamlit/app.py
Environment: RUSK_URL (default http://127.0.0.1:8080), RUSK_API_KEY (if the server has keys).
"""

import os
import time

import pandas as pd
import streamlit as st
from rusk_client import Rusk, RuskError

AGG_FUNCTIONS = ["sum", "mean", "min", "max", "count", "size", "nunique", "std", "var",
                 "median", "first", "last"]
# The Dask guide's aggregations, offered first where the source has these columns.
GUIDE_AGG = {"total_spend": "sum", "session_duration": "mean", "click_count": "max"}
RUSK_URL = os.environ.get("RUSK_URL", "http://127.0.0.1:8080")
RUSK_KEY = os.environ.get("RUSK_API_KEY")


# One client for every session and rerun: Streamlit reruns this script on each interaction.
@st.cache_resource
def connect(url: str, key: str | None) -> Rusk:
    return Rusk(url, key=key)


# Inspecting reads only the first rows, but the script reruns on every widget change.
@st.cache_data(ttl=30, show_spinner="Inspecting the source…")
def inspect(url: str, fmt: str, path: str) -> dict:
    return connect(url, RUSK_KEY).inspect({"format": fmt, "path": path})


def build_spec(source, filter_expr, new_name, new_expr, by, aggregations) -> dict:
    steps = []
    if filter_expr.strip():
        steps.append({"op": "filter", "expr": filter_expr})
    if new_name.strip() and new_expr.strip():
        steps.append({"op": "assign", "columns": {new_name: new_expr}})
    if by:
        steps.append({"op": "groupby", "by": by, "agg": aggregations, "sort": True})
    return {"name": "streamlit-pipeline", "sources": {"data": source}, "steps": steps}


def error_text(e: RuskError) -> str:
    return f"{e.code}: {e.message}" + (f" (at `{e.path}`)" if e.path else "")


st.set_page_config(page_title="Rusk pipeline", layout="wide")
st.title("The Dask guide's pipeline, on Rusk")
st.caption(f"Rusk at {RUSK_URL}; watch its jobs at {RUSK_URL}/dashboard")

st.header("1. Source")
left, right = st.columns([3, 1])
path = left.text_input("Path or glob under Rusk's data root", "logs/large-data-*.csv", key="path")
fmt = right.selectbox("Format", ["csv", "parquet", "json", "arrow"], key="format")
source = {"format": fmt, "path": path}
try:
    info = inspect(RUSK_URL, fmt, path)
except RuskError as e:
    st.error(error_text(e))
    st.stop()
columns = [field["name"] for field in info["schema"]]
st.write(f"{info['files']} files, {info['partitions']} partitions, "
         f"columns: {', '.join(f'`{c}`' for c in columns)}")
st.dataframe(pd.DataFrame(info["head"], columns=columns), key="head")

st.header("2. Pipeline")
filter_expr = st.text_input("Filter (SQL expression; empty keeps every row)", "status = 'active'",
                            key="filter")
left, right = st.columns([1, 3])
new_name = left.text_input("New column", "total_spend", key="new_name")
new_expr = right.text_input("computed as", "subscription_cost + add_on_cost", key="new_expr")
all_columns = columns + ([new_name] if new_name and new_name not in columns else [])
by = st.multiselect("Group by", all_columns, default=[c for c in ["user_id"] if c in all_columns],
                    key="by")
measures = st.multiselect("Aggregate", [c for c in all_columns if c not in by],
                          default=[c for c in GUIDE_AGG if c in all_columns and c not in by],
                          key="measures")
aggregations = {}
cells = st.columns(len(measures)) if measures else []
for column, cell in zip(measures, cells, strict=True):
    default = AGG_FUNCTIONS.index(GUIDE_AGG.get(column, "sum"))
    aggregations[column] = cell.selectbox(column, AGG_FUNCTIONS, index=default, key=f"agg_{column}")
spec = build_spec(source, filter_expr, new_name, new_expr, by, aggregations)
with st.expander("Job spec"):
    st.json(spec)

if st.button("Submit", type="primary", key="submit"):
    st.session_state.pop("result", None)
    try:
        job = connect(RUSK_URL, RUSK_KEY).submit(spec)
    except RuskError as e:
        st.error(error_text(e))
        st.stop()
    bar = st.progress(0.0, text=f"job {job.id}: {job.state}")
    # The job's progress is updated about every second while it runs.
    while job.state in ("queued", "running"):
        time.sleep(0.5)
        job.refresh()
        progress = job.view.get("progress") or {}
        done, total = progress.get("partitions_done") or 0, progress.get("partitions_total") or 0
        bar.progress(min(done / total, 1.0) if total else 0.0,
                     text=f"job {job.id}: {job.state}, {done}/{total} partitions, "
                          f"{progress.get('rows_read') or 0:,} rows read")
    if job.state != "succeeded":
        error = job.view.get("error") or {}
        st.error(f"job {job.id} {job.state}: {error.get('code')}: {error.get('message')}")
        st.stop()
    bar.progress(1.0, text=f"job {job.id}: succeeded")
    st.session_state["result"] = {"job": job.id, "frame": job.to_pandas(), "by": by,
                                  "measures": list(aggregations)}

result = st.session_state.get("result")
if result:
    frame = result["frame"]
    st.header("3. Result")
    st.write(f"job `{result['job']}`: {len(frame):,} rows")
    st.dataframe(frame, key="result")
    numeric = [m for m in result["measures"] if pd.api.types.is_numeric_dtype(frame[m])]
    if result["by"] and numeric:
        measure = st.selectbox("Chart", numeric, key="chart_measure")
        # A bar per group, the 50 largest: a chart of thousands of bars says nothing.
        top = frame.nlargest(50, measure)
        labels = top[result["by"]].astype(str).agg(" / ".join, axis=1)
        st.bar_chart(pd.DataFrame({"group": labels, measure: top[measure]}), x="group", y=measure,
                     sort=False)
