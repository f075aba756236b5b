from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.agg_fn import AggFn

T = TypeVar("T", bound="StepResampleAgg")


@_attrs_define
class StepResampleAgg:
    additional_properties: dict[str, AggFn | list[AggFn]] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        field_dict: dict[str, Any] = {}
        for prop_name, prop in self.additional_properties.items():
            if isinstance(prop, AggFn):
                field_dict[prop_name] = prop.value
            else:
                field_dict[prop_name] = []
                for componentsschemas_agg_spec_type_1_item_data in prop:
                    componentsschemas_agg_spec_type_1_item = componentsschemas_agg_spec_type_1_item_data.value
                    field_dict[prop_name].append(componentsschemas_agg_spec_type_1_item)

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        step_resample_agg = cls()

        additional_properties = {}
        for prop_name, prop_dict in d.items():

            def _parse_additional_property(data: object) -> AggFn | list[AggFn]:
                try:
                    if not isinstance(data, str):
                        raise TypeError()
                    componentsschemas_agg_spec_type_0 = AggFn(data)

                    return componentsschemas_agg_spec_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_agg_spec_type_1 = []
                _componentsschemas_agg_spec_type_1 = data
                for componentsschemas_agg_spec_type_1_item_data in _componentsschemas_agg_spec_type_1:
                    componentsschemas_agg_spec_type_1_item = AggFn(componentsschemas_agg_spec_type_1_item_data)

                    componentsschemas_agg_spec_type_1.append(componentsschemas_agg_spec_type_1_item)

                return componentsschemas_agg_spec_type_1

            additional_property = _parse_additional_property(prop_dict)

            additional_properties[prop_name] = additional_property

        step_resample_agg.additional_properties = additional_properties
        return step_resample_agg

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> AggFn | list[AggFn]:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: AggFn | list[AggFn]) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
