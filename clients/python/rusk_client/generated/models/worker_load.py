from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="WorkerLoad")


@_attrs_define
class WorkerLoad:
    """A worker's load as it last reported it.

    Attributes:
        memory_reserved (int | Unset): Bytes its memory pool has granted. Default: 0.
        spilled_bytes (int | Unset): Bytes in its spill files. Default: 0.
        cpu_percent (float | None | Unset): CPU used by the process since its previous report, in percent of one core
            (200 = two
            cores busy); `null` where the platform does not tell.
    """

    memory_reserved: int | Unset = 0
    spilled_bytes: int | Unset = 0
    cpu_percent: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        memory_reserved = self.memory_reserved

        spilled_bytes = self.spilled_bytes

        cpu_percent: float | None | Unset
        if isinstance(self.cpu_percent, Unset):
            cpu_percent = UNSET
        else:
            cpu_percent = self.cpu_percent

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if memory_reserved is not UNSET:
            field_dict["memory_reserved"] = memory_reserved
        if spilled_bytes is not UNSET:
            field_dict["spilled_bytes"] = spilled_bytes
        if cpu_percent is not UNSET:
            field_dict["cpu_percent"] = cpu_percent

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        memory_reserved = d.pop("memory_reserved", UNSET)

        spilled_bytes = d.pop("spilled_bytes", UNSET)

        def _parse_cpu_percent(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        cpu_percent = _parse_cpu_percent(d.pop("cpu_percent", UNSET))

        worker_load = cls(
            memory_reserved=memory_reserved,
            spilled_bytes=spilled_bytes,
            cpu_percent=cpu_percent,
        )

        worker_load.additional_properties = d
        return worker_load

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
