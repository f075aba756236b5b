from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_rename_op import StepRenameOp

if TYPE_CHECKING:
    from ..models.step_rename_columns import StepRenameColumns


T = TypeVar("T", bound="StepRename")


@_attrs_define
class StepRename:
    """Old name → new name.

    Attributes:
        columns (StepRenameColumns):
        op (StepRenameOp):
    """

    columns: StepRenameColumns
    op: StepRenameOp
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        columns = self.columns.to_dict()

        op = self.op.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "columns": columns,
                "op": op,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.step_rename_columns import StepRenameColumns  # noqa: PLC0415

        d = dict(src_dict)
        columns = StepRenameColumns.from_dict(d.pop("columns"))

        op = StepRenameOp(d.pop("op"))

        step_rename = cls(
            columns=columns,
            op=op,
        )

        step_rename.additional_properties = d
        return step_rename

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
