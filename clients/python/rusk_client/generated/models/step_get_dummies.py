from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_get_dummies_op import StepGetDummiesOp
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.prefix_type_1 import PrefixType1


T = TypeVar("T", bound="StepGetDummies")


@_attrs_define
class StepGetDummies:
    """One boolean column per value of each of `columns`, named `prefix` + `prefix_sep` +
    value, in place of the column and after the others: `pd.get_dummies(df, columns=…)`.
    `prefix`: one for all columns or one per column (default: the column's name). The values
    are found by a first pass over the data (at most 1000 per column); a missing value
    gives no dummy.

        Attributes:
            columns (list[str] | str): A column name or a list of them.
            op (StepGetDummiesOp):
            prefix (None | PrefixType1 | str | Unset):
            prefix_sep (str | Unset):
    """

    columns: list[str] | str
    op: StepGetDummiesOp
    prefix: None | PrefixType1 | str | Unset = UNSET
    prefix_sep: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.prefix_type_1 import PrefixType1  # noqa: PLC0415

        columns: list[str] | str
        if isinstance(self.columns, list):
            columns = self.columns

        else:
            columns = self.columns

        op = self.op.value

        prefix: dict[str, Any] | None | str | Unset
        if isinstance(self.prefix, Unset):
            prefix = UNSET
        elif isinstance(self.prefix, PrefixType1):
            prefix = self.prefix.to_dict()
        else:
            prefix = self.prefix

        prefix_sep = self.prefix_sep

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "columns": columns,
                "op": op,
            }
        )
        if prefix is not UNSET:
            field_dict["prefix"] = prefix
        if prefix_sep is not UNSET:
            field_dict["prefix_sep"] = prefix_sep

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.prefix_type_1 import PrefixType1  # noqa: PLC0415

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

        op = StepGetDummiesOp(d.pop("op"))

        def _parse_prefix(data: object) -> None | PrefixType1 | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_prefix_type_1 = PrefixType1.from_dict(data)

                return componentsschemas_prefix_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PrefixType1 | str | Unset, data)

        prefix = _parse_prefix(d.pop("prefix", UNSET))

        prefix_sep = d.pop("prefix_sep", UNSET)

        step_get_dummies = cls(
            columns=columns,
            op=op,
            prefix=prefix,
            prefix_sep=prefix_sep,
        )

        step_get_dummies.additional_properties = d
        return step_get_dummies

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
