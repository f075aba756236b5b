from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.job_line import JobLine
    from ..models.job_view import JobView
    from ..models.task import Task
    from ..models.worker_view import WorkerView


T = TypeVar("T", bound="Snapshot")


@_attrs_define
class Snapshot:
    """One `snapshot` event of the dashboard's stream.

    Attributes:
        at (datetime.datetime):
        jobs (list[JobLine]): The tenant's newest jobs.
        workers (list[WorkerView]):
        tasks (list[Task]): That job's spans that are new or changed since the previous snapshot (all of them in
            the first).
        job (JobView | None | Unset):
    """

    at: datetime.datetime
    jobs: list[JobLine]
    workers: list[WorkerView]
    tasks: list[Task]
    job: JobView | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.job_view import JobView  # noqa: PLC0415

        at = self.at.isoformat()

        jobs = []
        for jobs_item_data in self.jobs:
            jobs_item = jobs_item_data.to_dict()
            jobs.append(jobs_item)

        workers = []
        for workers_item_data in self.workers:
            workers_item = workers_item_data.to_dict()
            workers.append(workers_item)

        tasks = []
        for tasks_item_data in self.tasks:
            tasks_item = tasks_item_data.to_dict()
            tasks.append(tasks_item)

        job: dict[str, Any] | None | Unset
        if isinstance(self.job, Unset):
            job = UNSET
        elif isinstance(self.job, JobView):
            job = self.job.to_dict()
        else:
            job = self.job

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "jobs": jobs,
                "workers": workers,
                "tasks": tasks,
            }
        )
        if job is not UNSET:
            field_dict["job"] = job

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_line import JobLine  # noqa: PLC0415
        from ..models.job_view import JobView  # noqa: PLC0415
        from ..models.task import Task  # noqa: PLC0415
        from ..models.worker_view import WorkerView  # noqa: PLC0415

        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        jobs = []
        _jobs = d.pop("jobs")
        for jobs_item_data in _jobs:
            jobs_item = JobLine.from_dict(jobs_item_data)

            jobs.append(jobs_item)

        workers = []
        _workers = d.pop("workers")
        for workers_item_data in _workers:
            workers_item = WorkerView.from_dict(workers_item_data)

            workers.append(workers_item)

        tasks = []
        _tasks = d.pop("tasks")
        for tasks_item_data in _tasks:
            tasks_item = Task.from_dict(tasks_item_data)

            tasks.append(tasks_item)

        def _parse_job(data: object) -> JobView | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                job_type_0 = JobView.from_dict(data)

                return job_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobView | None | Unset, data)

        job = _parse_job(d.pop("job", UNSET))

        snapshot = cls(
            at=at,
            jobs=jobs,
            workers=workers,
            tasks=tasks,
            job=job,
        )

        snapshot.additional_properties = d
        return snapshot

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
