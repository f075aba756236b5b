from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.moving_fn import MovingFn
from ..models.step_rolling_op import StepRollingOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepRolling")


@_attrs_define
class StepRolling:
    """A moving `agg` in `order_by` order within each `by` group:
    `df.groupby(by)[columns].rolling(window, min_periods).agg()`. `window` is a number of
    rows (this one and those before it), or a time span such as `"7D"` or `"30min"`
    (pandas' offset windows: the rows less than that long before this one, by the one
    timestamp column in `order_by`). Null where fewer than `min_periods` values are
    present (default: the window's rows, or 1 for a time span, as in pandas).

        Attributes:
            columns (list[str] | str): A column name or a list of them.
            window (int | str): A `rolling` window: rows, or a time span (`"7D"`).
            agg (MovingFn): What `rolling` computes over its window.
            order_by (list[str] | str): A column name or a list of them.
            op (StepRollingOp):
            min_periods (int | None | Unset):
            by (list[str] | None | str | Unset):
    """

    columns: list[str] | str
    window: int | str
    agg: MovingFn
    order_by: list[str] | str
    op: StepRollingOp
    min_periods: int | None | Unset = UNSET
    by: list[str] | None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        columns: list[str] | str
        if isinstance(self.columns, list):
            columns = self.columns

        else:
            columns = self.columns

        window: int | str
        window = self.window

        agg = self.agg.value

        order_by: list[str] | str
        if isinstance(self.order_by, list):
            order_by = self.order_by

        else:
            order_by = self.order_by

        op = self.op.value

        min_periods: int | None | Unset
        if isinstance(self.min_periods, Unset):
            min_periods = UNSET
        else:
            min_periods = self.min_periods

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
                "window": window,
                "agg": agg,
                "order_by": order_by,
                "op": op,
            }
        )
        if min_periods is not UNSET:
            field_dict["min_periods"] = min_periods
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

        def _parse_window(data: object) -> int | str:
            return cast(int | str, data)

        window = _parse_window(d.pop("window"))

        agg = MovingFn(d.pop("agg"))

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

        op = StepRollingOp(d.pop("op"))

        def _parse_min_periods(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        min_periods = _parse_min_periods(d.pop("min_periods", UNSET))

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

        step_rolling = cls(
            columns=columns,
            window=window,
            agg=agg,
            order_by=order_by,
            op=op,
            min_periods=min_periods,
            by=by,
        )

        step_rolling.additional_properties = d
        return step_rolling

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
