from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.asof_direction import AsofDirection
from ..models.step_merge_asof_op import StepMergeAsofOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepMergeAsof")


@_attrs_define
class StepMergeAsof:
    """For each row, the row of `right` with the nearest `on` key (before it, after it or
    either, by `direction`) within the same `by` keys and within `tolerance` (a number, or
    a time span such as `"1h"`): `pd.merge_asof`. Every left row is kept; its columns from
    `right` are null where no row matches. Sorted by `on`. Of right rows with the same key,
    which one is taken is not defined.

        Attributes:
            right (str):
            on (str):
            op (StepMergeAsofOp):
            by (list[str] | None | str | Unset):
            direction (AsofDirection | Unset): Which right row `merge_asof` takes: the last one at or before the left key
                (`backward`),
                the first at or after it (`forward`), or the closer of the two (`nearest`; the earlier one
                on a tie).
            tolerance (float | None | str | Unset):
            suffixes (list[str] | None | Unset): Added to overlapping column names; default `["_x", "_y"]`.
    """

    right: str
    on: str
    op: StepMergeAsofOp
    by: list[str] | None | str | Unset = UNSET
    direction: AsofDirection | Unset = UNSET
    tolerance: float | None | str | Unset = UNSET
    suffixes: list[str] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        right = self.right

        on = self.on

        op = self.op.value

        by: list[str] | None | str | Unset
        if isinstance(self.by, Unset):
            by = UNSET
        elif isinstance(self.by, list):
            by = self.by

        else:
            by = self.by

        direction: str | Unset = UNSET
        if not isinstance(self.direction, Unset):
            direction = self.direction.value

        tolerance: float | None | str | Unset
        if isinstance(self.tolerance, Unset):
            tolerance = UNSET
        else:
            tolerance = self.tolerance

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
                "on": on,
                "op": op,
            }
        )
        if by is not UNSET:
            field_dict["by"] = by
        if direction is not UNSET:
            field_dict["direction"] = direction
        if tolerance is not UNSET:
            field_dict["tolerance"] = tolerance
        if suffixes is not UNSET:
            field_dict["suffixes"] = suffixes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        right = d.pop("right")

        on = d.pop("on")

        op = StepMergeAsofOp(d.pop("op"))

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

        _direction = d.pop("direction", UNSET)
        direction: AsofDirection | Unset
        if isinstance(_direction, Unset):
            direction = UNSET
        else:
            direction = AsofDirection(_direction)

        def _parse_tolerance(data: object) -> float | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | str | Unset, data)

        tolerance = _parse_tolerance(d.pop("tolerance", UNSET))

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

        step_merge_asof = cls(
            right=right,
            on=on,
            op=op,
            by=by,
            direction=direction,
            tolerance=tolerance,
            suffixes=suffixes,
        )

        step_merge_asof.additional_properties = d
        return step_merge_asof

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
