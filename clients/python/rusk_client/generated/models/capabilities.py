from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.gpu_device import GpuDevice


T = TypeVar("T", bound="Capabilities")


@_attrs_define
class Capabilities:
    """What a worker process can do.

    Attributes:
        cores (int):
        memory_limit (int): The engine's memory pool, in bytes.
        gpus (list[GpuDevice] | Unset): The GPU devices it runs operators on (`RUSK_GPUS`); empty on a CPU-only worker.
    """

    cores: int
    memory_limit: int
    gpus: list[GpuDevice] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cores = self.cores

        memory_limit = self.memory_limit

        gpus: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.gpus, Unset):
            gpus = []
            for gpus_item_data in self.gpus:
                gpus_item = gpus_item_data.to_dict()
                gpus.append(gpus_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cores": cores,
                "memory_limit": memory_limit,
            }
        )
        if gpus is not UNSET:
            field_dict["gpus"] = gpus

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.gpu_device import GpuDevice  # noqa: PLC0415

        d = dict(src_dict)
        cores = d.pop("cores")

        memory_limit = d.pop("memory_limit")

        _gpus = d.pop("gpus", UNSET)
        gpus: list[GpuDevice] | Unset = UNSET
        if _gpus is not UNSET:
            gpus = []
            for gpus_item_data in _gpus:
                gpus_item = GpuDevice.from_dict(gpus_item_data)

                gpus.append(gpus_item)

        capabilities = cls(
            cores=cores,
            memory_limit=memory_limit,
            gpus=gpus,
        )

        capabilities.additional_properties = d
        return capabilities

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
