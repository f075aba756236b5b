from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.ewm_fn import EwmFn
from ..models.step_ewm_op import StepEwmOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepEwm")


@_attrs_define
class StepEwm:
    """Exponentially weighted mean in `order_by` order within each `by` group:
    `df.sort_values(order_by).groupby(by)[columns].ewm(span=…).mean()`. The decay is given
    by exactly one of `span`, `com`, `halflife` or `alpha`; `adjust` and `ignore_na` as in
    pandas. Null until `min_periods` values have been seen.

        Attributes:
            columns (list[str] | str): A column name or a list of them.
            order_by (list[str] | str): A column name or a list of them.
            op (StepEwmOp):
            span (float | None | Unset):
            com (float | None | Unset):
            halflife (float | None | Unset):
            alpha (float | None | Unset):
            agg (EwmFn | Unset): What `ewm` computes (pandas' `ewm(...).mean()`).
            adjust (bool | Unset):
            ignore_na (bool | Unset):
            min_periods (int | Unset):
            by (list[str] | None | str | Unset):
    """

    columns: list[str] | str
    order_by: list[str] | str
    op: StepEwmOp
    span: float | None | Unset = UNSET
    com: float | None | Unset = UNSET
    halflife: float | None | Unset = UNSET
    alpha: float | None | Unset = UNSET
    agg: EwmFn | Unset = UNSET
    adjust: bool | Unset = UNSET
    ignore_na: bool | Unset = UNSET
    min_periods: int | Unset = UNSET
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

        span: float | None | Unset
        if isinstance(self.span, Unset):
            span = UNSET
        else:
            span = self.span

        com: float | None | Unset
        if isinstance(self.com, Unset):
            com = UNSET
        else:
            com = self.com

        halflife: float | None | Unset
        if isinstance(self.halflife, Unset):
            halflife = UNSET
        else:
            halflife = self.halflife

        alpha: float | None | Unset
        if isinstance(self.alpha, Unset):
            alpha = UNSET
        else:
            alpha = self.alpha

        agg: str | Unset = UNSET
        if not isinstance(self.agg, Unset):
            agg = self.agg.value

        adjust = self.adjust

        ignore_na = self.ignore_na

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
                "order_by": order_by,
                "op": op,
            }
        )
        if span is not UNSET:
            field_dict["span"] = span
        if com is not UNSET:
            field_dict["com"] = com
        if halflife is not UNSET:
            field_dict["halflife"] = halflife
        if alpha is not UNSET:
            field_dict["alpha"] = alpha
        if agg is not UNSET:
            field_dict["agg"] = agg
        if adjust is not UNSET:
            field_dict["adjust"] = adjust
        if ignore_na is not UNSET:
            field_dict["ignore_na"] = ignore_na
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

        op = StepEwmOp(d.pop("op"))

        def _parse_span(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        span = _parse_span(d.pop("span", UNSET))

        def _parse_com(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        com = _parse_com(d.pop("com", UNSET))

        def _parse_halflife(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        halflife = _parse_halflife(d.pop("halflife", UNSET))

        def _parse_alpha(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        alpha = _parse_alpha(d.pop("alpha", UNSET))

        _agg = d.pop("agg", UNSET)
        agg: EwmFn | Unset
        if isinstance(_agg, Unset):
            agg = UNSET
        else:
            agg = EwmFn(_agg)

        adjust = d.pop("adjust", UNSET)

        ignore_na = d.pop("ignore_na", UNSET)

        min_periods = d.pop("min_periods", UNSET)

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

        step_ewm = cls(
            columns=columns,
            order_by=order_by,
            op=op,
            span=span,
            com=com,
            halflife=halflife,
            alpha=alpha,
            agg=agg,
            adjust=adjust,
            ignore_na=ignore_na,
            min_periods=min_periods,
            by=by,
        )

        step_ewm.additional_properties = d
        return step_ewm

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
