from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_sort_op import StepSortOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepSort")


@_attrs_define
class StepSort:
    """Sort by columns; nulls last, as in pandas.

    Attributes:
        by (list[str] | str): A column name or a list of them.
        op (StepSortOp):
        ascending (bool | list[bool] | None | Unset):
    """

    by: list[str] | str
    op: StepSortOp
    ascending: bool | list[bool] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        by: list[str] | str
        if isinstance(self.by, list):
            by = self.by

        else:
            by = self.by

        op = self.op.value

        ascending: bool | list[bool] | None | Unset
        if isinstance(self.ascending, Unset):
            ascending = UNSET
        elif isinstance(self.ascending, list):
            ascending = self.ascending

        else:
            ascending = self.ascending

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "by": by,
                "op": op,
            }
        )
        if ascending is not UNSET:
            field_dict["ascending"] = ascending

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_by(data: object) -> list[str] | str:
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_names_type_1 = cast(list[str], data)

                return componentsschemas_names_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | str, data)

        by = _parse_by(d.pop("by"))

        op = StepSortOp(d.pop("op"))

        def _parse_ascending(data: object) -> bool | list[bool] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_ascending_type_1 = cast(list[bool], data)

                return componentsschemas_ascending_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(bool | list[bool] | None | Unset, data)

        ascending = _parse_ascending(d.pop("ascending", UNSET))

        step_sort = cls(
            by=by,
            op=op,
            ascending=ascending,
        )

        step_sort.additional_properties = d
        return step_sort

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
