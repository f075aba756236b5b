from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_filter_op import StepFilterOp

T = TypeVar("T", bound="StepFilter")


@_attrs_define
class StepFilter:
    """Keep rows where `expr` is true (`df[df.status == 'active']`).

    Attributes:
        expr (str):
        op (StepFilterOp):
    """

    expr: str
    op: StepFilterOp
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        expr = self.expr

        op = self.op.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "expr": expr,
                "op": op,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        expr = d.pop("expr")

        op = StepFilterOp(d.pop("op"))

        step_filter = cls(
            expr=expr,
            op=op,
        )

        step_filter.additional_properties = d
        return step_filter

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
