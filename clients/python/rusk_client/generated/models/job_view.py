from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_state import JobState
from ..models.waiting import Waiting
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.attempt import Attempt
    from ..models.job_error import JobError
    from ..models.job_spec import JobSpec
    from ..models.progress import Progress
    from ..models.result_view import ResultView


T = TypeVar("T", bound="JobView")


@_attrs_define
class JobView:
    """A job as callers see it.

    Attributes:
        id (UUID):
        state (JobState):
        created_at (datetime.datetime):
        attempts (int): Attempts started so far (a lapsed lease or a transient failure starts another).
        max_attempts (int):
        priority (int):
        spec (JobSpec): A job: a pipeline over named sources that produces one dataframe. Example: {'name': 'user-
            metrics', 'output': {'format': 'parquet'}, 'sources': {'logs': {'format': 'csv', 'path': 'data/large-
            data-*.csv'}}, 'steps': [{'expr': "status = 'active'", 'op': 'filter'}, {'columns': {'total_spend':
            'subscription_cost + add_on_cost'}, 'op': 'assign'}, {'agg': {'click_count': 'max', 'session_duration': 'mean',
            'total_spend': 'sum'}, 'by': ['user_id'], 'op': 'groupby'}]}.
        name (None | str | Unset):
        started_at (datetime.datetime | None | Unset):
        finished_at (datetime.datetime | None | Unset):
        progress (None | Progress | Unset):
        error (JobError | None | Unset):
        attempt_log (list[Attempt] | None | Unset): Every attempt: worker, start, end, outcome, error. Only on `GET
            /v1/jobs/{id}`.
        waiting_for (None | Unset | Waiting):
        result (None | ResultView | Unset):
    """

    id: UUID
    state: JobState
    created_at: datetime.datetime
    attempts: int
    max_attempts: int
    priority: int
    spec: JobSpec
    name: None | str | Unset = UNSET
    started_at: datetime.datetime | None | Unset = UNSET
    finished_at: datetime.datetime | None | Unset = UNSET
    progress: None | Progress | Unset = UNSET
    error: JobError | None | Unset = UNSET
    attempt_log: list[Attempt] | None | Unset = UNSET
    waiting_for: None | Unset | Waiting = UNSET
    result: None | ResultView | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.job_error import JobError  # noqa: PLC0415
        from ..models.progress import Progress  # noqa: PLC0415
        from ..models.result_view import ResultView  # noqa: PLC0415

        id = str(self.id)

        state = self.state.value

        created_at = self.created_at.isoformat()

        attempts = self.attempts

        max_attempts = self.max_attempts

        priority = self.priority

        spec = self.spec.to_dict()

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        started_at: None | str | Unset
        if isinstance(self.started_at, Unset):
            started_at = UNSET
        elif isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        finished_at: None | str | Unset
        if isinstance(self.finished_at, Unset):
            finished_at = UNSET
        elif isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        progress: dict[str, Any] | None | Unset
        if isinstance(self.progress, Unset):
            progress = UNSET
        elif isinstance(self.progress, Progress):
            progress = self.progress.to_dict()
        else:
            progress = self.progress

        error: dict[str, Any] | None | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        elif isinstance(self.error, JobError):
            error = self.error.to_dict()
        else:
            error = self.error

        attempt_log: list[dict[str, Any]] | None | Unset
        if isinstance(self.attempt_log, Unset):
            attempt_log = UNSET
        elif isinstance(self.attempt_log, list):
            attempt_log = []
            for attempt_log_type_0_item_data in self.attempt_log:
                attempt_log_type_0_item = attempt_log_type_0_item_data.to_dict()
                attempt_log.append(attempt_log_type_0_item)

        else:
            attempt_log = self.attempt_log

        waiting_for: None | str | Unset
        if isinstance(self.waiting_for, Unset):
            waiting_for = UNSET
        elif isinstance(self.waiting_for, Waiting):
            waiting_for = self.waiting_for.value
        else:
            waiting_for = self.waiting_for

        result: dict[str, Any] | None | Unset
        if isinstance(self.result, Unset):
            result = UNSET
        elif isinstance(self.result, ResultView):
            result = self.result.to_dict()
        else:
            result = self.result

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "state": state,
                "created_at": created_at,
                "attempts": attempts,
                "max_attempts": max_attempts,
                "priority": priority,
                "spec": spec,
            }
        )
        if name is not UNSET:
            field_dict["name"] = name
        if started_at is not UNSET:
            field_dict["started_at"] = started_at
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at
        if progress is not UNSET:
            field_dict["progress"] = progress
        if error is not UNSET:
            field_dict["error"] = error
        if attempt_log is not UNSET:
            field_dict["attempt_log"] = attempt_log
        if waiting_for is not UNSET:
            field_dict["waiting_for"] = waiting_for
        if result is not UNSET:
            field_dict["result"] = result

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.attempt import Attempt  # noqa: PLC0415
        from ..models.job_error import JobError  # noqa: PLC0415
        from ..models.job_spec import JobSpec  # noqa: PLC0415
        from ..models.progress import Progress  # noqa: PLC0415
        from ..models.result_view import ResultView  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        state = JobState(d.pop("state"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        attempts = d.pop("attempts")

        max_attempts = d.pop("max_attempts")

        priority = d.pop("priority")

        spec = JobSpec.from_dict(d.pop("spec"))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_started_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        started_at = _parse_started_at(d.pop("started_at", UNSET))

        def _parse_finished_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        finished_at = _parse_finished_at(d.pop("finished_at", UNSET))

        def _parse_progress(data: object) -> None | Progress | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                progress_type_0 = Progress.from_dict(data)

                return progress_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Progress | Unset, data)

        progress = _parse_progress(d.pop("progress", UNSET))

        def _parse_error(data: object) -> JobError | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                error_type_0 = JobError.from_dict(data)

                return error_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobError | None | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_attempt_log(data: object) -> list[Attempt] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                attempt_log_type_0 = []
                _attempt_log_type_0 = data
                for attempt_log_type_0_item_data in _attempt_log_type_0:
                    attempt_log_type_0_item = Attempt.from_dict(attempt_log_type_0_item_data)

                    attempt_log_type_0.append(attempt_log_type_0_item)

                return attempt_log_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Attempt] | None | Unset, data)

        attempt_log = _parse_attempt_log(d.pop("attempt_log", UNSET))

        def _parse_waiting_for(data: object) -> None | Unset | Waiting:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                waiting_for_type_0 = Waiting(data)

                return waiting_for_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | Waiting, data)

        waiting_for = _parse_waiting_for(d.pop("waiting_for", UNSET))

        def _parse_result(data: object) -> None | ResultView | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                result_type_0 = ResultView.from_dict(data)

                return result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ResultView | Unset, data)

        result = _parse_result(d.pop("result", UNSET))

        job_view = cls(
            id=id,
            state=state,
            created_at=created_at,
            attempts=attempts,
            max_attempts=max_attempts,
            priority=priority,
            spec=spec,
            name=name,
            started_at=started_at,
            finished_at=finished_at,
            progress=progress,
            error=error,
            attempt_log=attempt_log,
            waiting_for=waiting_for,
            result=result,
        )

        job_view.additional_properties = d
        return job_view

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
