from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.drop_how import DropHow
from ..models.step_dropna_op import StepDropnaOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepDropna")


@_attrs_define
class StepDropna:
    """Drop rows with missing values in `subset` (default: all columns); `how`: `any` or `all`.

    Attributes:
        op (StepDropnaOp):
        subset (list[str] | None | str | Unset):
        how (DropHow | Unset):
    """

    op: StepDropnaOp
    subset: list[str] | None | str | Unset = UNSET
    how: DropHow | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        op = self.op.value

        subset: list[str] | None | str | Unset
        if isinstance(self.subset, Unset):
            subset = UNSET
        elif isinstance(self.subset, list):
            subset = self.subset

        else:
            subset = self.subset

        how: str | Unset = UNSET
        if not isinstance(self.how, Unset):
            how = self.how.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "op": op,
            }
        )
        if subset is not UNSET:
            field_dict["subset"] = subset
        if how is not UNSET:
            field_dict["how"] = how

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        op = StepDropnaOp(d.pop("op"))

        def _parse_subset(data: object) -> list[str] | None | str | Unset:
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

        subset = _parse_subset(d.pop("subset", UNSET))

        _how = d.pop("how", UNSET)
        how: DropHow | Unset
        if isinstance(_how, Unset):
            how = UNSET
        else:
            how = DropHow(_how)

        step_dropna = cls(
            op=op,
            subset=subset,
            how=how,
        )

        step_dropna.additional_properties = d
        return step_dropna

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
