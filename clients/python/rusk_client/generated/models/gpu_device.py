from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.device_kind import DeviceKind

T = TypeVar("T", bound="GpuDevice")


@_attrs_define
class GpuDevice:
    """A GPU device of a worker.

    Attributes:
        index (int): The CUDA device number.
        kind (DeviceKind): What a worker's device is.
        name (str):  Example: NVIDIA H100 80GB HBM3.
        total_memory (int): Bytes of device memory.
        free_memory (int): Bytes free at the worker's last report.
        compute_capability (str): Compute capability, e.g. `9.0`. Example: 9.0.
    """

    index: int
    kind: DeviceKind
    name: str
    total_memory: int
    free_memory: int
    compute_capability: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        index = self.index

        kind = self.kind.value

        name = self.name

        total_memory = self.total_memory

        free_memory = self.free_memory

        compute_capability = self.compute_capability

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "index": index,
                "kind": kind,
                "name": name,
                "total_memory": total_memory,
                "free_memory": free_memory,
                "compute_capability": compute_capability,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        index = d.pop("index")

        kind = DeviceKind(d.pop("kind"))

        name = d.pop("name")

        total_memory = d.pop("total_memory")

        free_memory = d.pop("free_memory")

        compute_capability = d.pop("compute_capability")

        gpu_device = cls(
            index=index,
            kind=kind,
            name=name,
            total_memory=total_memory,
            free_memory=free_memory,
            compute_capability=compute_capability,
        )

        gpu_device.additional_properties = d
        return gpu_device

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
