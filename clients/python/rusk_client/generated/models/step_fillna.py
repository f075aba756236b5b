from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_fillna_op import StepFillnaOp
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.step_fillna_columns_type_0 import StepFillnaColumnsType0


T = TypeVar("T", bound="StepFillna")


@_attrs_define
class StepFillna:
    """Fill missing values (null, or NaN in float columns): one `value` for every column of a
    matching type, or a value per column in `columns`.

        Attributes:
            op (StepFillnaOp):
            value (bool | float | int | None | str | Unset):
            columns (None | StepFillnaColumnsType0 | Unset):
    """

    op: StepFillnaOp
    value: bool | float | int | None | str | Unset = UNSET
    columns: None | StepFillnaColumnsType0 | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.step_fillna_columns_type_0 import StepFillnaColumnsType0  # noqa: PLC0415

        op = self.op.value

        value: bool | float | int | None | str | Unset
        if isinstance(self.value, Unset):
            value = UNSET
        else:
            value = self.value

        columns: dict[str, Any] | None | Unset
        if isinstance(self.columns, Unset):
            columns = UNSET
        elif isinstance(self.columns, StepFillnaColumnsType0):
            columns = self.columns.to_dict()
        else:
            columns = self.columns

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "op": op,
            }
        )
        if value is not UNSET:
            field_dict["value"] = value
        if columns is not UNSET:
            field_dict["columns"] = columns

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.step_fillna_columns_type_0 import StepFillnaColumnsType0  # noqa: PLC0415

        d = dict(src_dict)
        op = StepFillnaOp(d.pop("op"))

        def _parse_value(data: object) -> bool | float | int | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | float | int | None | str | Unset, data)

        value = _parse_value(d.pop("value", UNSET))

        def _parse_columns(data: object) -> None | StepFillnaColumnsType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                columns_type_0 = StepFillnaColumnsType0.from_dict(data)

                return columns_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | StepFillnaColumnsType0 | Unset, data)

        columns = _parse_columns(d.pop("columns", UNSET))

        step_fillna = cls(
            op=op,
            value=value,
            columns=columns,
        )

        step_fillna.additional_properties = d
        return step_fillna

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
