from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.rank_method import RankMethod
from ..models.step_rank_op import StepRankOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepRank")


@_attrs_define
class StepRank:
    """Replaces each column by its rank (float64, from 1) within each `by` group, as pandas'
    `rank`: ties by `method`; missing values keep no rank. `first` breaks ties by
    `order_by`, which it needs.

        Attributes:
            columns (list[str] | str): A column name or a list of them.
            op (StepRankOp):
            method (RankMethod | Unset): How `rank` ranks ties, as pandas: `average` of their positions, `min`, `max`,
                `first`
                (in `order_by` order) or `dense` (no gaps).
            ascending (bool | Unset):
            by (list[str] | None | str | Unset):
            order_by (list[str] | None | str | Unset):
    """

    columns: list[str] | str
    op: StepRankOp
    method: RankMethod | Unset = UNSET
    ascending: bool | Unset = UNSET
    by: list[str] | None | str | Unset = UNSET
    order_by: list[str] | None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        columns: list[str] | str
        if isinstance(self.columns, list):
            columns = self.columns

        else:
            columns = self.columns

        op = self.op.value

        method: str | Unset = UNSET
        if not isinstance(self.method, Unset):
            method = self.method.value

        ascending = self.ascending

        by: list[str] | None | str | Unset
        if isinstance(self.by, Unset):
            by = UNSET
        elif isinstance(self.by, list):
            by = self.by

        else:
            by = self.by

        order_by: list[str] | None | str | Unset
        if isinstance(self.order_by, Unset):
            order_by = UNSET
        elif isinstance(self.order_by, list):
            order_by = self.order_by

        else:
            order_by = self.order_by

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "columns": columns,
                "op": op,
            }
        )
        if method is not UNSET:
            field_dict["method"] = method
        if ascending is not UNSET:
            field_dict["ascending"] = ascending
        if by is not UNSET:
            field_dict["by"] = by
        if order_by is not UNSET:
            field_dict["order_by"] = order_by

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

        op = StepRankOp(d.pop("op"))

        _method = d.pop("method", UNSET)
        method: RankMethod | Unset
        if isinstance(_method, Unset):
            method = UNSET
        else:
            method = RankMethod(_method)

        ascending = d.pop("ascending", UNSET)

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

        def _parse_order_by(data: object) -> list[str] | None | str | Unset:
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

        order_by = _parse_order_by(d.pop("order_by", UNSET))

        step_rank = cls(
            columns=columns,
            op=op,
            method=method,
            ascending=ascending,
            by=by,
            order_by=order_by,
        )

        step_rank.additional_properties = d
        return step_rank

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
