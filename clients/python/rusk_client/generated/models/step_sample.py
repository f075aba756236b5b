from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_sample_op import StepSampleOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepSample")


@_attrs_define
class StepSample:
    """Keep each row with probability `frac`, decided by a hash of `seed` and the row's values:
    the same data and seed always give the same rows (identical rows go together).

        Attributes:
            frac (float):
            op (StepSampleOp):
            seed (int | Unset):
    """

    frac: float
    op: StepSampleOp
    seed: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        frac = self.frac

        op = self.op.value

        seed = self.seed

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "frac": frac,
                "op": op,
            }
        )
        if seed is not UNSET:
            field_dict["seed"] = seed

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        frac = d.pop("frac")

        op = StepSampleOp(d.pop("op"))

        seed = d.pop("seed", UNSET)

        step_sample = cls(
            frac=frac,
            op=op,
            seed=seed,
        )

        step_sample.additional_properties = d
        return step_sample

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
