from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_melt_op import StepMeltOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepMelt")


@_attrs_define
class StepMelt:
    """Wide to long: one row per `id_vars` row and `value_vars` column (default: every other
    column), the column's name in `var_name` and its value in `value_name`: `pd.melt`.

        Attributes:
            id_vars (list[str] | str): A column name or a list of them.
            op (StepMeltOp):
            value_vars (list[str] | None | str | Unset):
            var_name (str | Unset):
            value_name (str | Unset):
    """

    id_vars: list[str] | str
    op: StepMeltOp
    value_vars: list[str] | None | str | Unset = UNSET
    var_name: str | Unset = UNSET
    value_name: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id_vars: list[str] | str
        if isinstance(self.id_vars, list):
            id_vars = self.id_vars

        else:
            id_vars = self.id_vars

        op = self.op.value

        value_vars: list[str] | None | str | Unset
        if isinstance(self.value_vars, Unset):
            value_vars = UNSET
        elif isinstance(self.value_vars, list):
            value_vars = self.value_vars

        else:
            value_vars = self.value_vars

        var_name = self.var_name

        value_name = self.value_name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id_vars": id_vars,
                "op": op,
            }
        )
        if value_vars is not UNSET:
            field_dict["value_vars"] = value_vars
        if var_name is not UNSET:
            field_dict["var_name"] = var_name
        if value_name is not UNSET:
            field_dict["value_name"] = value_name

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_id_vars(data: object) -> list[str] | str:
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_names_type_1 = cast(list[str], data)

                return componentsschemas_names_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | str, data)

        id_vars = _parse_id_vars(d.pop("id_vars"))

        op = StepMeltOp(d.pop("op"))

        def _parse_value_vars(data: object) -> list[str] | None | str | Unset:
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

        value_vars = _parse_value_vars(d.pop("value_vars", UNSET))

        var_name = d.pop("var_name", UNSET)

        value_name = d.pop("value_name", UNSET)

        step_melt = cls(
            id_vars=id_vars,
            op=op,
            value_vars=value_vars,
            var_name=var_name,
            value_name=value_name,
        )

        step_melt.additional_properties = d
        return step_melt

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
