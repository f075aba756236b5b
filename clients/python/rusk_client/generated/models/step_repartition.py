from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_repartition_op import StepRepartitionOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepRepartition")


@_attrs_define
class StepRepartition:
    """`npartitions`: run the following steps in that many parallel partitions.
    `partition_size` (e.g. `"100MB"`): the size of the result files, as Dask's
    `repartition(partition_size=…)` followed by `to_parquet` gives.

        Attributes:
            op (StepRepartitionOp):
            npartitions (int | None | Unset):
            partition_size (None | str | Unset):
    """

    op: StepRepartitionOp
    npartitions: int | None | Unset = UNSET
    partition_size: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        op = self.op.value

        npartitions: int | None | Unset
        if isinstance(self.npartitions, Unset):
            npartitions = UNSET
        else:
            npartitions = self.npartitions

        partition_size: None | str | Unset
        if isinstance(self.partition_size, Unset):
            partition_size = UNSET
        else:
            partition_size = self.partition_size

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "op": op,
            }
        )
        if npartitions is not UNSET:
            field_dict["npartitions"] = npartitions
        if partition_size is not UNSET:
            field_dict["partition_size"] = partition_size

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        op = StepRepartitionOp(d.pop("op"))

        def _parse_npartitions(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        npartitions = _parse_npartitions(d.pop("npartitions", UNSET))

        def _parse_partition_size(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        partition_size = _parse_partition_size(d.pop("partition_size", UNSET))

        step_repartition = cls(
            op=op,
            npartitions=npartitions,
            partition_size=partition_size,
        )

        step_repartition.additional_properties = d
        return step_repartition

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
