from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_map_op import StepMapOp
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.step_map_mapping import StepMapMapping


T = TypeVar("T", bound="StepMap")


@_attrs_define
class StepMap:
    """Replaces the values of `column` through `mapping` (keys are the values as text:
    `"1"` maps the integer 1); others become `default`, else null: `s.map(dict)`.

        Attributes:
            column (str):
            mapping (StepMapMapping):
            op (StepMapOp):
            default (bool | float | int | None | str | Unset):
    """

    column: str
    mapping: StepMapMapping
    op: StepMapOp
    default: bool | float | int | None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        column = self.column

        mapping = self.mapping.to_dict()

        op = self.op.value

        default: bool | float | int | None | str | Unset
        if isinstance(self.default, Unset):
            default = UNSET
        else:
            default = self.default

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "column": column,
                "mapping": mapping,
                "op": op,
            }
        )
        if default is not UNSET:
            field_dict["default"] = default

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.step_map_mapping import StepMapMapping  # noqa: PLC0415

        d = dict(src_dict)
        column = d.pop("column")

        mapping = StepMapMapping.from_dict(d.pop("mapping"))

        op = StepMapOp(d.pop("op"))

        def _parse_default(data: object) -> bool | float | int | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | float | int | None | str | Unset, data)

        default = _parse_default(d.pop("default", UNSET))

        step_map = cls(
            column=column,
            mapping=mapping,
            op=op,
            default=default,
        )

        step_map.additional_properties = d
        return step_map

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
