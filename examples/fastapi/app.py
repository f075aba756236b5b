"""A reports backend that runs its users' reports as Rusk jobs and learns of the results by
webhook instead of polling.

    POST /reports            body {"status", "country", "min_clicks"}; header X-User (who asks;
                             stands in for your real authentication), optional Idempotency-Key.
                             Submits a Rusk job and answers 202 with the report (= job) id.
    POST /webhooks/rusk      Rusk's signed completion webhook (Standard Webhooks); 401 if the
                             signature does not verify.
    GET  /reports/{id}       the report's status, and its rows once the webhook has arrived.

Environment:
    RUSK_URL              Rusk's base URL (default http://127.0.0.1:8080)
    RUSK_API_KEY          API key, if the Rusk server has keys (default: none)
    RUSK_WEBHOOK_SECRET   the secret Rusk signs with (whsec_...): the tenant's secret printed by
                          `rusk keys create`, or, on a Rusk without keys, its RUSK_WEBHOOK_SECRET
    REPORTS_PUBLIC_URL    where Rusk can reach this app (default http://127.0.0.1:8000)
    REPORTS_SOURCE        CSV glob under Rusk's data root (default logs/large-data-*.csv)
    REPORTS_DB            SQLite file for the reports (default reports.sqlite3 beside this file)

Run: uvicorn app:app --app-dir examples/fastapi --port 8000
"""

import hashlib
import io
import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Literal

import httpx
import pyarrow as pa
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from rusk_client import Rusk, RuskError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

RUSK_URL = os.environ.get("RUSK_URL", "http://127.0.0.1:8080")
PUBLIC_URL = os.environ.get("REPORTS_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
SOURCE = os.environ.get("REPORTS_SOURCE", "logs/large-data-*.csv")
DB_PATH = os.environ.get("REPORTS_DB", str(Path(__file__).with_name("reports.sqlite3")))
SECRET = os.environ.get("RUSK_WEBHOOK_SECRET")
if not SECRET:
    raise RuntimeError("set RUSK_WEBHOOK_SECRET to the whsec_... secret Rusk signs webhooks with")

rusk = Rusk(RUSK_URL, key=os.environ.get("RUSK_API_KEY"))
webhook = Webhook(SECRET)
app = FastAPI(title="Reports on Rusk")


class ReportRequest(BaseModel):
    # Closed vocabularies and patterns: the values go into a filter expression, so nothing
    # else may get through.
    status: Literal["active", "inactive", "trial"] = "active"
    country: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    min_clicks: int = Field(default=0, ge=0)


def db():
    conn = sqlite3.connect(DB_PATH)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS report (id TEXT PRIMARY KEY, user TEXT NOT NULL,"
        " params TEXT NOT NULL, status TEXT NOT NULL, result TEXT, error TEXT)"
    )
    return conn


def spec_for(user: str, req: ReportRequest) -> dict:
    conditions = [f"status = '{req.status}'", f"click_count >= {req.min_clicks}"]
    if req.country:
        conditions.append(f"country = '{req.country}'")
    return {
        "name": f"report:{user}",
        "sources": {"logs": {"format": "csv", "path": SOURCE}},
        "steps": [
            {"op": "filter", "expr": " AND ".join(conditions)},
            {"op": "assign", "columns": {"total_spend": "subscription_cost + add_on_cost"}},
            {"op": "groupby", "by": ["country"], "sort": True,
             "agg": {"total_spend": "sum", "user_id": "nunique", "click_count": "mean"}},
            {"op": "rename", "columns": {"user_id": "users", "click_count": "mean_clicks"}},
        ],
        "webhook": {"url": f"{PUBLIC_URL}/webhooks/rusk"},
    }


@app.get("/healthz")
def healthz():
    return {"ok": True}


@app.post("/reports", status_code=202)
def create_report(
    req: ReportRequest,
    x_user: str = Header(min_length=1, max_length=100),
    idempotency_key: str | None = Header(default=None, max_length=200),
):
    # The Rusk key covers who asked, what, and the client's own key: a retry of the same
    # request finds the same job, while another user or other parameters get their own.
    # Without a client key, identical requests share one report.
    material = json.dumps([x_user, idempotency_key, req.model_dump()], sort_keys=True)
    key = "report-" + hashlib.sha256(material.encode()).hexdigest()
    try:
        job = rusk.submit(spec_for(x_user, req), idempotency_key=key)
    except RuskError as e:
        # The user's parameters are validated above, so a 422 is this app's bug or config
        # (e.g. REPORTS_SOURCE, or a webhook URL Rusk may not call): pass Rusk's words on.
        status = 422 if e.status == 422 else 502
        raise HTTPException(status, detail={"code": e.code, "message": e.message}) from None
    except httpx.TransportError as e:
        raise HTTPException(502, detail={"code": "rusk_unreachable", "message": str(e)}) from None
    with closing(db()) as conn, conn:
        conn.execute(
            "INSERT OR IGNORE INTO report (id, user, params, status) VALUES (?, ?, ?, 'pending')",
            (job.id, x_user, req.model_dump_json()),
        )
    return {"id": job.id, "status": "pending", "url": f"/reports/{job.id}"}


@app.post("/webhooks/rusk")
async def rusk_webhook(request: Request):
    body = await request.body()
    try:
        event = webhook.verify(body, dict(request.headers))
    except WebhookVerificationError as e:
        return JSONResponse({"error": f"bad signature: {e}"}, status_code=401)
    job = event["data"]
    with closing(db()) as conn:
        known = conn.execute("SELECT 1 FROM report WHERE id = ?", (job["id"],)).fetchone()
    if not known:
        # Not one of ours (another app on the same Rusk tenant): 2xx so Rusk stops retrying.
        return {"ok": True, "ignored": True}
    if event["type"] == "job.succeeded":
        # The link is signed by Rusk and works without an API key; a redelivery (same
        # webhook-id) just writes the same rows again.
        async with httpx.AsyncClient(timeout=60) as client:
            response = await client.get(job["result"]["links"]["arrow"])
            response.raise_for_status()
        table = pa.ipc.open_stream(io.BytesIO(response.content)).read_all()
        status, result, error = "ready", json.dumps(table.to_pylist()), None
    else:
        status, result, error = "failed", None, json.dumps(job.get("error"))
    with closing(db()) as conn, conn:
        conn.execute(
            "UPDATE report SET status = ?, result = ?, error = ? WHERE id = ?",
            (status, result, error, job["id"]),
        )
    return {"ok": True}


@app.get("/reports/{report_id}")
def get_report(report_id: str, x_user: str = Header(min_length=1, max_length=100)):
    with closing(db()) as conn:
        row = conn.execute(
            "SELECT user, params, status, result, error FROM report WHERE id = ?", (report_id,)
        ).fetchone()
    if row is None or row[0] != x_user:
        raise HTTPException(404, detail="no such report")
    _, params, status, result, error = row
    report = {"id": report_id, "params": json.loads(params), "status": status,
              "result": json.loads(result) if result else None,
              "error": json.loads(error) if error else None}
    if status == "pending":
        # Until the webhook comes, show where the job is.
        try:
            job = rusk.job(report_id)
            report["job_state"], report["progress"] = job.state, job.view.get("progress")
        except RuskError as e:
            report["job_state"] = f"unknown ({e.code})"
    return report
