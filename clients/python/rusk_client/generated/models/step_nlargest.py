from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_nlargest_op import StepNlargestOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepNlargest")


@_attrs_define
class StepNlargest:
    """The `n` rows with the largest values of `columns` (compared in order; rows missing the
    first are left out), in each `by` group if given: `df.nlargest(n, columns)`, or
    `df.sort_values(columns, ascending=False).groupby(by).head(n)` (rows whose `by` key is
    missing are left out, as pandas' `groupby` leaves them out). A bounded top-n, not a
    sort of the data. Which of tied rows is kept is not defined.

        Attributes:
            n (int):
            columns (list[str] | str): A column name or a list of them.
            op (StepNlargestOp):
            by (list[str] | None | str | Unset):
    """

    n: int
    columns: list[str] | str
    op: StepNlargestOp
    by: list[str] | None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        n = self.n

        columns: list[str] | str
        if isinstance(self.columns, list):
            columns = self.columns

        else:
            columns = self.columns

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
                "n": n,
                "columns": columns,
                "op": op,
            }
        )
        if by is not UNSET:
            field_dict["by"] = by

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        n = d.pop("n")

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

        op = StepNlargestOp(d.pop("op"))

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

        step_nlargest = cls(
            n=n,
            columns=columns,
            op=op,
            by=by,
        )

        step_nlargest.additional_properties = d
        return step_nlargest

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
