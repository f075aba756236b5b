"""The Streamlit example, driven by Streamlit's own AppTest against a live Rusk: the widgets
build the Dask guide's pipeline, Submit runs it, and the table shows pandas' answer."""

import json

import pandas as pd
from streamlit.testing.v1 import AppTest

from examples_support import EXAMPLES, assert_frames_match

APP = EXAMPLES / "streamlit" / "app.py"
# Generous: the app waits for the whole job inside one script run.
TIMEOUT = 600


def guide_answer(frame: pd.DataFrame) -> pd.DataFrame:
    active = frame[frame["status"] == "active"].copy()
    active["total_spend"] = active["subscription_cost"] + active["add_on_cost"]
    return active.groupby("user_id").agg(
        {"total_spend": "sum", "session_duration": "mean", "click_count": "max"}
    ).reset_index()


def test_pipeline_from_widgets(rusk_url, logs, monkeypatch):
    monkeypatch.setenv("RUSK_URL", rusk_url)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.text_input(key="path").set_value(logs.glob)
    at.selectbox(key="format").set_value("csv")
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    # inspect: the source's first rows are shown, with every column.
    head = at.dataframe[0].value
    assert list(head.columns) == list(logs.frame.columns)
    assert len(head) > 0

    # The guide's pipeline, set explicitly (not left to the defaults).
    at.text_input(key="filter").set_value("status = 'active'")
    at.text_input(key="new_name").set_value("total_spend")
    at.text_input(key="new_expr").set_value("subscription_cost + add_on_cost")
    at.multiselect(key="by").set_value(["user_id"])
    at.multiselect(key="measures").set_value(["total_spend", "session_duration", "click_count"])
    at.run()
    at.selectbox(key="agg_total_spend").set_value("sum")
    at.selectbox(key="agg_session_duration").set_value("mean")
    at.selectbox(key="agg_click_count").set_value("max")
    at.button(key="submit").click()
    at.run(timeout=TIMEOUT)

    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.progress, "no progress bar"
    result = result_frame(at)
    assert_frames_match(result, guide_answer(logs.frame), ["user_id"])
    charts = at.get("vega_lite_chart")
    assert charts, "no chart of the result"
    assert json.loads(charts[0].proto.spec)["mark"]["type"] == "bar"


def result_frame(at: AppTest) -> pd.DataFrame:
    # The head of the source is the first dataframe on the page, the result the last.
    frames = at.dataframe
    assert len(frames) >= 2, f"no result table ({len(frames)} dataframes on the page)"
    return frames[-1].value


def test_spec_error_is_shown(rusk_url, logs, monkeypatch):
    monkeypatch.setenv("RUSK_URL", rusk_url)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.text_input(key="path").set_value(logs.glob)
    at.run()
    at.text_input(key="filter").set_value("no_such_column > 1")
    at.button(key="submit").click()
    at.run(timeout=TIMEOUT)
    assert not at.exception, at.exception
    # Rusk refuses the spec at submission and names the field; the page says so.
    errors = [e.value for e in at.error]
    assert any("invalid_spec" in e and "steps[0].expr" in e for e in errors), errors
