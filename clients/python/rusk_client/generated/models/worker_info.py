from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.capabilities import Capabilities
    from ..models.worker_load import WorkerLoad


T = TypeVar("T", bound="WorkerInfo")


@_attrs_define
class WorkerInfo:
    """A worker process as it last reported itself.

    Attributes:
        id (str):
        hostname (str):
        started_at (datetime.datetime):
        last_seen (datetime.datetime):
        slots (int):
        busy (int):
        capabilities (Capabilities): What a worker process can do.
        current_jobs (list[UUID]):
        load (WorkerLoad | Unset): A worker's load as it last reported it.
    """

    id: str
    hostname: str
    started_at: datetime.datetime
    last_seen: datetime.datetime
    slots: int
    busy: int
    capabilities: Capabilities
    current_jobs: list[UUID]
    load: WorkerLoad | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        hostname = self.hostname

        started_at = self.started_at.isoformat()

        last_seen = self.last_seen.isoformat()

        slots = self.slots

        busy = self.busy

        capabilities = self.capabilities.to_dict()

        current_jobs = []
        for current_jobs_item_data in self.current_jobs:
            current_jobs_item = str(current_jobs_item_data)
            current_jobs.append(current_jobs_item)

        load: dict[str, Any] | Unset = UNSET
        if not isinstance(self.load, Unset):
            load = self.load.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "hostname": hostname,
                "started_at": started_at,
                "last_seen": last_seen,
                "slots": slots,
                "busy": busy,
                "capabilities": capabilities,
                "current_jobs": current_jobs,
            }
        )
        if load is not UNSET:
            field_dict["load"] = load

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.capabilities import Capabilities  # noqa: PLC0415
        from ..models.worker_load import WorkerLoad  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        hostname = d.pop("hostname")

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))

        last_seen = datetime.datetime.fromisoformat(d.pop("last_seen"))

        slots = d.pop("slots")

        busy = d.pop("busy")

        capabilities = Capabilities.from_dict(d.pop("capabilities"))

        current_jobs = []
        _current_jobs = d.pop("current_jobs")
        for current_jobs_item_data in _current_jobs:
            current_jobs_item = UUID(current_jobs_item_data)

            current_jobs.append(current_jobs_item)

        _load = d.pop("load", UNSET)
        load: WorkerLoad | Unset
        if isinstance(_load, Unset):
            load = UNSET
        else:
            load = WorkerLoad.from_dict(_load)

        worker_info = cls(
            id=id,
            hostname=hostname,
            started_at=started_at,
            last_seen=last_seen,
            slots=slots,
            busy=busy,
            capabilities=capabilities,
            current_jobs=current_jobs,
            load=load,
        )

        worker_info.additional_properties = d
        return worker_info

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
