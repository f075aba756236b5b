from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.agg_fn import AggFn
from ..models.step_pivot_table_op import StepPivotTableOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepPivotTable")


@_attrs_define
class StepPivotTable:
    """A spreadsheet-style pivot: one row per `index` key, one column per value of `columns`
    (per `values` column and value, named `value_column` when there are several `values`),
    each cell `aggfunc` of that key's and value's rows: `pd.pivot_table`. `values` defaults
    to every other column. The columns' values are found by a first pass over the data
    (at most 1000 of them); rows missing a key are left out, a cell without rows is
    `fill_value` (else null), and rows come sorted by `index`.

        Attributes:
            index (list[str] | str): A column name or a list of them.
            columns (list[str] | str): A column name or a list of them.
            op (StepPivotTableOp):
            values (list[str] | None | str | Unset):
            aggfunc (AggFn | Unset):
            fill_value (bool | float | int | None | str | Unset):
    """

    index: list[str] | str
    columns: list[str] | str
    op: StepPivotTableOp
    values: list[str] | None | str | Unset = UNSET
    aggfunc: AggFn | Unset = UNSET
    fill_value: bool | float | int | None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        index: list[str] | str
        if isinstance(self.index, list):
            index = self.index

        else:
            index = self.index

        columns: list[str] | str
        if isinstance(self.columns, list):
            columns = self.columns

        else:
            columns = self.columns

        op = self.op.value

        values: list[str] | None | str | Unset
        if isinstance(self.values, Unset):
            values = UNSET
        elif isinstance(self.values, list):
            values = self.values

        else:
            values = self.values

        aggfunc: str | Unset = UNSET
        if not isinstance(self.aggfunc, Unset):
            aggfunc = self.aggfunc.value

        fill_value: bool | float | int | None | str | Unset
        if isinstance(self.fill_value, Unset):
            fill_value = UNSET
        else:
            fill_value = self.fill_value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "index": index,
                "columns": columns,
                "op": op,
            }
        )
        if values is not UNSET:
            field_dict["values"] = values
        if aggfunc is not UNSET:
            field_dict["aggfunc"] = aggfunc
        if fill_value is not UNSET:
            field_dict["fill_value"] = fill_value

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_index(data: object) -> list[str] | str:
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_names_type_1 = cast(list[str], data)

                return componentsschemas_names_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | str, data)

        index = _parse_index(d.pop("index"))

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

        op = StepPivotTableOp(d.pop("op"))

        def _parse_values(data: object) -> list[str] | None | str | Unset:
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

        values = _parse_values(d.pop("values", UNSET))

        _aggfunc = d.pop("aggfunc", UNSET)
        aggfunc: AggFn | Unset
        if isinstance(_aggfunc, Unset):
            aggfunc = UNSET
        else:
            aggfunc = AggFn(_aggfunc)

        def _parse_fill_value(data: object) -> bool | float | int | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | float | int | None | str | Unset, data)

        fill_value = _parse_fill_value(d.pop("fill_value", UNSET))

        step_pivot_table = cls(
            index=index,
            columns=columns,
            op=op,
            values=values,
            aggfunc=aggfunc,
            fill_value=fill_value,
        )

        step_pivot_table.additional_properties = d
        return step_pivot_table

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
