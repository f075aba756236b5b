from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_cumcount_op import StepCumcountOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepCumcount")


@_attrs_define
class StepCumcount:
    """Numbers the rows of each `by` group from 0 in `order_by` order, in a new column `name`
    (default `cumcount`): `df.groupby(by).cumcount()`.

        Attributes:
            order_by (list[str] | str): A column name or a list of them.
            op (StepCumcountOp):
            by (list[str] | None | str | Unset):
            name (None | str | Unset):
    """

    order_by: list[str] | str
    op: StepCumcountOp
    by: list[str] | None | str | Unset = UNSET
    name: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
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

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "order_by": order_by,
                "op": op,
            }
        )
        if by is not UNSET:
            field_dict["by"] = by
        if name is not UNSET:
            field_dict["name"] = name

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

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

        op = StepCumcountOp(d.pop("op"))

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

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        step_cumcount = cls(
            order_by=order_by,
            op=op,
            by=by,
            name=name,
        )

        step_cumcount.additional_properties = d
        return step_cumcount

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
