from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.how import How
from ..models.step_merge_op import StepMergeOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepMerge")


@_attrs_define
class StepMerge:
    """Join with another source, as `pd.merge`.

    Attributes:
        right (str):
        op (StepMergeOp):
        on (list[str] | None | str | Unset):
        left_on (list[str] | None | str | Unset):
        right_on (list[str] | None | str | Unset):
        how (How | Unset):
        suffixes (list[str] | None | Unset): Added to overlapping column names; default `["_x", "_y"]`.
    """

    right: str
    op: StepMergeOp
    on: list[str] | None | str | Unset = UNSET
    left_on: list[str] | None | str | Unset = UNSET
    right_on: list[str] | None | str | Unset = UNSET
    how: How | Unset = UNSET
    suffixes: list[str] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        right = self.right

        op = self.op.value

        on: list[str] | None | str | Unset
        if isinstance(self.on, Unset):
            on = UNSET
        elif isinstance(self.on, list):
            on = self.on

        else:
            on = self.on

        left_on: list[str] | None | str | Unset
        if isinstance(self.left_on, Unset):
            left_on = UNSET
        elif isinstance(self.left_on, list):
            left_on = self.left_on

        else:
            left_on = self.left_on

        right_on: list[str] | None | str | Unset
        if isinstance(self.right_on, Unset):
            right_on = UNSET
        elif isinstance(self.right_on, list):
            right_on = self.right_on

        else:
            right_on = self.right_on

        how: str | Unset = UNSET
        if not isinstance(self.how, Unset):
            how = self.how.value

        suffixes: list[str] | None | Unset
        if isinstance(self.suffixes, Unset):
            suffixes = UNSET
        elif isinstance(self.suffixes, list):
            suffixes = self.suffixes

        else:
            suffixes = self.suffixes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "right": right,
                "op": op,
            }
        )
        if on is not UNSET:
            field_dict["on"] = on
        if left_on is not UNSET:
            field_dict["left_on"] = left_on
        if right_on is not UNSET:
            field_dict["right_on"] = right_on
        if how is not UNSET:
            field_dict["how"] = how
        if suffixes is not UNSET:
            field_dict["suffixes"] = suffixes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        right = d.pop("right")

        op = StepMergeOp(d.pop("op"))

        def _parse_on(data: object) -> list[str] | None | str | Unset:
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

        on = _parse_on(d.pop("on", UNSET))

        def _parse_left_on(data: object) -> list[str] | None | str | Unset:
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

        left_on = _parse_left_on(d.pop("left_on", UNSET))

        def _parse_right_on(data: object) -> list[str] | None | str | Unset:
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

        right_on = _parse_right_on(d.pop("right_on", UNSET))

        _how = d.pop("how", UNSET)
        how: How | Unset
        if isinstance(_how, Unset):
            how = UNSET
        else:
            how = How(_how)

        def _parse_suffixes(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                suffixes_type_0 = cast(list[str], data)

                return suffixes_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        suffixes = _parse_suffixes(d.pop("suffixes", UNSET))

        step_merge = cls(
            right=right,
            op=op,
            on=on,
            left_on=left_on,
            right_on=right_on,
            how=how,
            suffixes=suffixes,
        )

        step_merge.additional_properties = d
        return step_merge

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
