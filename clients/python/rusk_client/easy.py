"""The convenience layer over the generated client: submit a spec, wait with a progress bar,
read the result as a dataframe.

    from rusk_client import Rusk
    rusk = Rusk("http://127.0.0.1:8080")
    job = rusk.submit(spec).wait()
    df = job.to_pandas()

Written by hand; clients/generate.sh never touches this file. Job specs and views travel as
plain dicts (the JSON the server speaks), so the server's own validation, with its error
paths, is the only judge of a spec.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from .generated import AuthenticatedClient, Client
from .generated.api.models import list_models
from .generated.api.workers import list_workers

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

TERMINAL = ("succeeded", "failed", "cancelled")


class RuskError(Exception):
    """An error answer from Rusk: `{"error": {"code", "message", "details"}}`.

    `status` is the HTTP status, `code` the stable machine-readable code (`invalid_spec`,
    `not_found`, ...), `details` a list of dicts (the server's `details`), `path` the field at
    fault (`steps[1].expr`) when the server names one.
    """

    def __init__(
        self,
        status: int | None,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
    ):
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.request_id = request_id
        first = self.details[0] if self.details else None
        self.path = first.get("path") if isinstance(first, dict) else None
        where = f" at {self.path}" if self.path else ""
        super().__init__(f"{status or ''} {code}{where}: {message}".strip())

    @classmethod
    def from_response(cls, response: httpx.Response) -> RuskError:
        request_id = response.headers.get("x-request-id")
        try:
            error = response.json()["error"]
            code, message = error["code"], error["message"]
        except (ValueError, KeyError, TypeError):
            # Not Rusk's error body (a proxy in between, say): keep what there is.
            return cls(response.status_code, "http_error", response.text[:500], None, request_id)
        details = error.get("details")
        # The server sends one object today; a list is accepted too so callers see one shape.
        if isinstance(details, dict):
            details = [details]
        elif not isinstance(details, list):
            details = []
        return cls(response.status_code, code, message, details, request_id)


class JobFailed(RuskError):
    """Raised by `Job.wait()` when the job ends failed or cancelled. `code` and `message` are
    the job's `error` (`data_error`, `timeout`, ...); `status` is None (no HTTP error); `job`
    is the Job."""

    def __init__(self, job: Job):
        error = job.view.get("error") or {}
        code = error.get("code") or job.state
        message = error.get("message") or f"job {job.id} ended {job.state}"
        super().__init__(None, code, message)
        self.job = job


def _check(response: httpx.Response) -> httpx.Response:
    if response.is_error:
        raise RuskError.from_response(response)
    return response


class Rusk:
    """A connection to one Rusk server. `key` is an API key (`rusk_...`), or None for a server
    without keys (which serves loopback clients only).

    `client` is the generated client (`rusk_client.generated`), configured the same way, for
    any operation this layer does not wrap: `list_tasks.sync(id=..., client=rusk.client)`.
    """

    def __init__(self, url: str, key: str | None = None, timeout: float = 60.0):
        base = url.rstrip("/")
        settings: dict[str, Any] = {
            "base_url": base,
            "timeout": httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        }
        self.url = base
        self.client: Client | AuthenticatedClient = (
            AuthenticatedClient(token=key, **settings) if key else Client(**settings)
        )
        # The same httpx client (base URL, key, timeouts) serves the calls made by hand.
        self.http: httpx.Client = self.client.get_httpx_client()

    def __enter__(self) -> Rusk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def __repr__(self) -> str:
        return f"Rusk({self.url!r})"

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return _check(self.http.request(method, path, **kwargs)).json()

    def submit(self, spec: dict[str, Any], idempotency_key: str | None = None) -> Job:
        """POST /v1/jobs. With `idempotency_key`, a retry with the same spec returns the
        first job instead of a new one."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return Job(self, self._json("POST", "/v1/jobs", json=spec, headers=headers))

    def job(self, id: str) -> Job:
        return Job(self, self._json("GET", f"/v1/jobs/{id}"))

    def jobs(self, state: str | None = None) -> list[Job]:
        """The tenant's jobs, newest first (every page)."""
        params: dict[str, Any] = {"limit": 1000}
        if state:
            params["state"] = state
        jobs: list[Job] = []
        while True:
            page = self._json("GET", "/v1/jobs", params=params)
            jobs += [Job(self, view) for view in page["jobs"]]
            if not page.get("next_cursor") or not page["jobs"]:
                return jobs
            params["cursor"] = page["next_cursor"]

    def inspect(self, source: dict[str, Any], n: int | None = None) -> dict[str, Any]:
        """POST /v1/inspect: a source's `schema`, `files`, `partitions` and first rows (`head`)."""
        body: dict[str, Any] = {"source": source}
        if n is not None:
            body["n"] = n
        return self._json("POST", "/v1/inspect", json=body)

    def explain(self, spec: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/explain: the `logical` and `physical` plans and the task `graph`."""
        return self._json("POST", "/v1/explain", json=spec)

    def models(self) -> list[dict[str, Any]]:
        """The tenant's trained models, newest first (every page)."""
        models: list[dict[str, Any]] = []
        cursor: Any = None
        while True:
            kwargs = {"cursor": cursor} if cursor else {}
            page = self._generated(list_models.sync_detailed(client=self.client, limit=1000, **kwargs))
            models += [model.to_dict() for model in page.models]
            cursor = page.next_cursor
            if not cursor or not page.models:
                return models

    def workers(self) -> list[dict[str, Any]]:
        """Live worker processes: slots, busy, free, capabilities, load, current jobs."""
        page = self._generated(list_workers.sync_detailed(client=self.client))
        return [worker.to_dict() for worker in page.workers]

    def _generated(self, response: Any) -> Any:
        """The parsed body of a generated `sync_detailed` call, or its error as RuskError."""
        if response.status_code >= 400:
            raise RuskError.from_response(
                httpx.Response(response.status_code, content=response.content, headers=response.headers)
            )
        return response.parsed

    def _events(self, id: str, read_timeout: float) -> Iterator[tuple[str, dict[str, Any]]]:
        """(event, job view) pairs from GET /v1/jobs/{id}/events until the server closes it."""
        timeout = httpx.Timeout(self.http.timeout.connect or 10.0, read=read_timeout)
        headers = {"Accept": "text/event-stream"}
        with self.http.stream("GET", f"/v1/jobs/{id}/events", headers=headers, timeout=timeout) as response:
            if response.is_error:
                response.read()
                raise RuskError.from_response(response)
            event, data = "message", []
            for line in response.iter_lines():
                if line == "":
                    if data:
                        yield event, json.loads("\n".join(data))
                    event, data = "message", []
                elif line.startswith(":"):
                    # Keep-alive comment: a chance for the caller to check its deadline.
                    yield "keepalive", {}
                else:
                    field, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if field == "event":
                        event = value
                    elif field == "data":
                        data.append(value)


class Job:
    """A job as last seen: `view` is its JSON view (`GET /v1/jobs/{id}`)."""

    def __init__(self, rusk: Rusk, view: dict[str, Any]):
        self.rusk = rusk
        self.view = view

    @property
    def id(self) -> str:
        return self.view["id"]

    @property
    def state(self) -> str:
        return self.view["state"]

    def __repr__(self) -> str:
        return f"Job({self.id!r}, state={self.state!r})"

    def refresh(self) -> Job:
        self.view = self.rusk._json("GET", f"/v1/jobs/{self.id}")
        return self

    def cancel(self) -> Job:
        self.view = self.rusk._json("POST", f"/v1/jobs/{self.id}/cancel")
        return self

    def wait(self, progress: bool = True, timeout: float | None = None) -> Job:
        """Follow the job's events until it ends; a tqdm bar shows partitions done.

        Returns the job when it succeeded; raises JobFailed when it failed or was cancelled,
        TimeoutError when `timeout` seconds pass first (the job keeps running).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _Bar(self) if progress else None
        try:
            while self.state not in TERMINAL:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"job {self.id} still {self.state} after {timeout} s")
                # Longer than the server's keep-alive interval (15 s), so a read times out
                # only when the connection is really stuck.
                read_timeout = 60.0 if remaining is None else max(1.0, min(60.0, remaining))
                try:
                    with closing(self.rusk._events(self.id, read_timeout)) as events:
                        for event, view in events:
                            if event != "keepalive":
                                self.view = view
                                if bar:
                                    bar.update(self)
                            if self.state in TERMINAL:
                                break
                            if deadline is not None and time.monotonic() >= deadline:
                                break
                except (httpx.TransportError, json.JSONDecodeError):
                    # A dropped or garbled stream: the GET below says where the job is.
                    pass
                if self.state not in TERMINAL:
                    # The stream ended (a proxy timeout, a restart) without the terminal event.
                    self.refresh()
                    if bar:
                        bar.update(self)
                    if self.state not in TERMINAL:
                        time.sleep(0.5)
        finally:
            if bar:
                bar.close()
        if self.state != "succeeded":
            raise JobFailed(self)
        return self

    def _links(self) -> dict[str, str]:
        result = self.view.get("result")
        expires = _parse_time(result["expires_at"]) if result else None
        # Links last RUSK_LINK_TTL from the response that made them; reading the job again
        # gives fresh ones.
        if expires is None or expires - datetime.now(UTC) < timedelta(seconds=30):
            self.refresh()
            result = self.view.get("result")
        if self.state != "succeeded" or not result:
            raise RuskError(None, "job_not_succeeded", f"job {self.id} is {self.state}, it has no result")
        return result["links"]

    def to_arrow(self) -> pyarrow.Table:
        """The whole result as a pyarrow Table, read from its Arrow IPC stream link."""
        import pyarrow

        response = _check(self.rusk.http.get(self._links()["arrow"]))
        with pyarrow.ipc.open_stream(response.content) as reader:
            return reader.read_all()

    def to_pandas(self) -> pandas.DataFrame:
        return self.to_arrow().to_pandas()

    def to_polars(self) -> polars.DataFrame:
        try:
            import polars
        except ImportError as e:
            raise ImportError("to_polars needs polars: pip install 'rusk-client[polars]'") from e
        return polars.from_arrow(self.to_arrow())


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class _Bar:
    """A tqdm bar over the job's partitions, with rows read and the state beside it."""

    def __init__(self, job: Job):
        from tqdm.auto import tqdm

        self.tqdm = tqdm(total=None, unit="part", desc=f"job …{job.id[-8:]}", leave=True)
        self.update(job)

    def update(self, job: Job) -> None:
        progress = job.view.get("progress") or {}
        total = progress.get("partitions_total")
        if total and self.tqdm.total != total:
            self.tqdm.total = total
        done = progress.get("partitions_done", 0)
        if job.state == "succeeded" and self.tqdm.total:
            done = self.tqdm.total
        self.tqdm.n = done
        self.tqdm.set_postfix(state=job.state, rows_read=f"{progress.get('rows_read', 0):,}", refresh=False)
        self.tqdm.refresh()

    def close(self) -> None:
        self.tqdm.close()
