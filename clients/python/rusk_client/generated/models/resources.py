from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.resources_gpu_type_1 import ResourcesGpuType1
from ..types import UNSET, Unset

T = TypeVar("T", bound="Resources")


@_attrs_define
class Resources:
    """What the job needs of the worker that claims it.

    Attributes:
        gpu (bool | ResourcesGpuType1 | Unset): `true`: a GPU worker only; `"prefer"`: a GPU where the worker has one;
            `false`: the CPU.
    """

    gpu: bool | ResourcesGpuType1 | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        gpu: bool | str | Unset
        if isinstance(self.gpu, Unset):
            gpu = UNSET
        elif isinstance(self.gpu, ResourcesGpuType1):
            gpu = self.gpu.value
        else:
            gpu = self.gpu

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if gpu is not UNSET:
            field_dict["gpu"] = gpu

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_gpu(data: object) -> bool | ResourcesGpuType1 | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                gpu_type_1 = ResourcesGpuType1(data)

                return gpu_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(bool | ResourcesGpuType1 | Unset, data)

        gpu = _parse_gpu(d.pop("gpu", UNSET))

        resources = cls(
            gpu=gpu,
        )

        return resources
