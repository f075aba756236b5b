from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Preprocess")


@_attrs_define
class Preprocess:
    """
    Attributes:
        scale (bool | Unset): Standardize numeric features (mean 0, variance 1), as `StandardScaler`.
        one_hot (list[str] | Unset): String columns to one-hot encode, as `OneHotEncoder` (unknown values: all zeros).
    """

    scale: bool | Unset = UNSET
    one_hot: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        scale = self.scale

        one_hot: list[str] | Unset = UNSET
        if not isinstance(self.one_hot, Unset):
            one_hot = self.one_hot

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if scale is not UNSET:
            field_dict["scale"] = scale
        if one_hot is not UNSET:
            field_dict["one_hot"] = one_hot

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        scale = d.pop("scale", UNSET)

        one_hot = cast(list[str], d.pop("one_hot", UNSET))

        preprocess = cls(
            scale=scale,
            one_hot=one_hot,
        )

        return preprocess
