from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_cummax_op import StepCummaxOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepCummax")


@_attrs_define
class StepCummax:
    """Running maximum, as `cumsum` (pandas' `cummax`).

    Attributes:
        columns (list[str] | str): A column name or a list of them.
        order_by (list[str] | str): A column name or a list of them.
        op (StepCummaxOp):
        by (list[str] | None | str | Unset):
    """

    columns: list[str] | str
    order_by: list[str] | str
    op: StepCummaxOp
    by: list[str] | None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        columns: list[str] | str
        if isinstance(self.columns, list):
            columns = self.columns

        else:
            columns = self.columns

        order_by: list[str] | str
        if isinstance(self.order_by, list):
            order_by = self.order_by

        else:
            order_by = self.order_by

        op = self.op.value

        by: list[str] | None | str | Unset
        if isinstance(self.by, Unset):
            by = UNSET
        elif isinstance(self.by, list):
            by = self.by

        else:
            by = self.by

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "columns": columns,
                "order_by": order_by,
                "op": op,
            }
        )
        if by is not UNSET:
            field_dict["by"] = by

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_columns(data: object) -> list[str] | str:
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_names_type_1 = cast(list[str], data)

                return componentsschemas_names_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | str, data)

        columns = _parse_columns(d.pop("columns"))

        def _parse_order_by(data: object) -> list[str] | str:
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_names_type_1 = cast(list[str], data)

                return componentsschemas_names_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | str, data)

        order_by = _parse_order_by(d.pop("order_by"))

        op = StepCummaxOp(d.pop("op"))

        def _parse_by(data: object) -> list[str] | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_names_type_1 = cast(list[str], data)

                return componentsschemas_names_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | str | Unset, data)

        by = _parse_by(d.pop("by", UNSET))

        step_cummax = cls(
            columns=columns,
            order_by=order_by,
            op=op,
            by=by,
        )

        step_cummax.additional_properties = d
        return step_cummax

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
