"""The FastAPI example end to end: a real uvicorn process, a real Rusk delivering real signed
webhooks to it. The Rusk under test must run with RUSK_WEBHOOK_ALLOW covering 127.0.0.0/8
(webhooks to loopback are refused otherwise) and RUSK_WEBHOOK_SECRET set to the same value as
this test's environment."""

import base64
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone

import httpx
import pandas as pd
import pytest
from standardwebhooks.webhooks import Webhook

from examples_support import EXAMPLES, assert_frames_match, required_env, subprocess_env

# Generous bounds that only stop a hung run; nothing here measures speed.
STARTUP = 60
REPORT = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def backend(rusk_url, logs, tmp_path):
    secret = required_env("RUSK_WEBHOOK_SECRET")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "uvicorn.log", "w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app:app", "--app-dir", str(EXAMPLES / "fastapi"),
         "--host", "127.0.0.1", "--port", str(port)],
        env=subprocess_env(RUSK_URL=rusk_url, RUSK_WEBHOOK_SECRET=secret, REPORTS_PUBLIC_URL=url,
                           REPORTS_SOURCE=logs.glob, REPORTS_DB=str(tmp_path / "reports.sqlite3")),
        stdout=log, stderr=subprocess.STDOUT,
    )

    def output() -> str:
        log.seek(0)
        return log.read()

    try:
        deadline = time.monotonic() + STARTUP
        while True:
            if process.poll() is not None:
                pytest.fail(f"uvicorn exited with {process.returncode}:\n{output()}")
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not answer within {STARTUP} s:\n{output()}")
            time.sleep(0.2)
        yield url, secret, output
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def expected_report(frame: pd.DataFrame, status: str, min_clicks: int) -> pd.DataFrame:
    rows = frame[(frame["status"] == status) & (frame["click_count"] >= min_clicks)].copy()
    rows["total_spend"] = rows["subscription_cost"] + rows["add_on_cost"]
    return rows.groupby("country").agg(
        total_spend=("total_spend", "sum"), users=("user_id", "nunique"),
        mean_clicks=("click_count", "mean"),
    ).reset_index()


def test_report_by_webhook(backend, rusk_url, logs):
    url, _, output = backend
    user = f"user-{uuid.uuid4().hex[:8]}"
    headers = {"X-User": user, "Idempotency-Key": "retry-me"}
    params = {"status": "active", "min_clicks": 20}

    # A client retry (same key, same body) finds the same job; Rusk holds one job.
    first = httpx.post(f"{url}/reports", json=params, headers=headers, timeout=60)
    assert first.status_code == 202, (
        f"{first.text} (a 422 on webhook.url: start Rusk with RUSK_WEBHOOK_ALLOW=127.0.0.0/8)")
    again = httpx.post(f"{url}/reports", json=params, headers=headers, timeout=60)
    assert again.status_code == 202, again.text
    report_id = first.json()["id"]
    assert again.json()["id"] == report_id
    jobs = httpx.get(f"{rusk_url}/v1/jobs", params={"limit": 1000}).json()["jobs"]
    assert [j["id"] for j in jobs if j.get("name") == f"report:{user}"] == [report_id]
    # A new request (another client key) is a new report.
    other = httpx.post(f"{url}/reports", json=params, headers={**headers, "Idempotency-Key": "new"},
                       timeout=60)
    assert other.status_code == 202, other.text
    assert other.json()["id"] != report_id

    # Another user is not shown this report.
    assert httpx.get(f"{url}/reports/{report_id}", headers={"X-User": "someone-else"}).status_code == 404

    # The backend learns the result only from the webhook.
    deadline = time.monotonic() + REPORT
    while True:
        report = httpx.get(f"{url}/reports/{report_id}", headers={"X-User": user}).json()
        if report["status"] != "pending":
            break
        deliveries = httpx.get(f"{rusk_url}/v1/jobs/{report_id}/deliveries").json()["deliveries"]
        statuses = [a["status"] for d in deliveries for a in d["attempt_log"]]
        if 401 in statuses:
            pytest.fail("the app refused Rusk's own webhook (401): the Rusk under test signs with "
                        "another secret than this test's RUSK_WEBHOOK_SECRET")
        if time.monotonic() > deadline:
            pytest.fail(f"no webhook within {REPORT} s: {report}\ndeliveries: {deliveries}\n"
                        f"uvicorn:\n{output()}")
        time.sleep(0.5)
    assert report["status"] == "ready", report
    assert_frames_match(pd.DataFrame(report["result"]),
                        expected_report(logs.frame, "active", 20), ["country"])
    deliveries = httpx.get(f"{rusk_url}/v1/jobs/{report_id}/deliveries").json()
    assert any(d["state"] == "delivered" for d in deliveries["deliveries"]), deliveries


def test_forged_webhooks_are_refused(backend):
    url, secret, _ = backend
    body = json.dumps({"type": "job.succeeded", "timestamp": "2026-01-01T00:00:00Z",
                       "data": {"id": "job_forged", "state": "succeeded"}})
    now = datetime.now(timezone.utc)
    # Signed with a secret that is not Rusk's.
    other = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    forged = {"webhook-id": "msg_forged", "webhook-timestamp": str(int(now.timestamp())),
              "webhook-signature": Webhook(other).sign("msg_forged", now, body)}
    # Rusk's secret, but the body changed after signing.
    tampered = dict(forged, **{"webhook-signature": Webhook(secret).sign("msg_forged", now, body + " ")})
    for headers in (forged, tampered, {}):
        response = httpx.post(f"{url}/webhooks/rusk", content=body,
                              headers={"content-type": "application/json", **headers})
        assert response.status_code == 401, (headers, response.text)
    # The same check accepts a message signed with the right secret (then ignores the
    # unknown job), so the 401s above are about the signatures.
    good = dict(forged, **{"webhook-signature": Webhook(secret).sign("msg_forged", now, body)})
    response = httpx.post(f"{url}/webhooks/rusk", content=body,
                          headers={"content-type": "application/json", **good})
    assert response.status_code == 200, response.text
