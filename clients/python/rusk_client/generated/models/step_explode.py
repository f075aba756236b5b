from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_explode_op import StepExplodeOp

T = TypeVar("T", bound="StepExplode")


@_attrs_define
class StepExplode:
    """One row per element of the list column `column`, the other columns repeated: pandas'
    `explode`. An empty or missing list gives one row with a null.

        Attributes:
            column (str):
            op (StepExplodeOp):
    """

    column: str
    op: StepExplodeOp
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        column = self.column

        op = self.op.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "column": column,
                "op": op,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        column = d.pop("column")

        op = StepExplodeOp(d.pop("op"))

        step_explode = cls(
            column=column,
            op=op,
        )

        step_explode.additional_properties = d
        return step_explode

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
