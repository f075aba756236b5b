from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_groupby_op import StepGroupbyOp
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.step_groupby_agg import StepGroupbyAgg
    from ..models.step_groupby_transform import StepGroupbyTransform


T = TypeVar("T", bound="StepGroupby")


@_attrs_define
class StepGroupby:
    """Group by `by` and aggregate; keys come back as columns. A list of functions names
    columns `col_fn`. `sort` orders the result by the keys (off by default, as in Dask).
    With `transform` instead of `agg`, every row is kept and each named column is replaced
    by its group's aggregate (`df.groupby(by)[col].transform(fn)`).

        Attributes:
            by (list[str] | str): A column name or a list of them.
            op (StepGroupbyOp):
            agg (StepGroupbyAgg | Unset):
            transform (StepGroupbyTransform | Unset):
            sort (bool | Unset):
    """

    by: list[str] | str
    op: StepGroupbyOp
    agg: StepGroupbyAgg | Unset = UNSET
    transform: StepGroupbyTransform | Unset = UNSET
    sort: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        by: list[str] | str
        if isinstance(self.by, list):
            by = self.by

        else:
            by = self.by

        op = self.op.value

        agg: dict[str, Any] | Unset = UNSET
        if not isinstance(self.agg, Unset):
            agg = self.agg.to_dict()

        transform: dict[str, Any] | Unset = UNSET
        if not isinstance(self.transform, Unset):
            transform = self.transform.to_dict()

        sort = self.sort

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "by": by,
                "op": op,
            }
        )
        if agg is not UNSET:
            field_dict["agg"] = agg
        if transform is not UNSET:
            field_dict["transform"] = transform
        if sort is not UNSET:
            field_dict["sort"] = sort

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.step_groupby_agg import StepGroupbyAgg  # noqa: PLC0415
        from ..models.step_groupby_transform import StepGroupbyTransform  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_by(data: object) -> list[str] | str:
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_names_type_1 = cast(list[str], data)

                return componentsschemas_names_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | str, data)

        by = _parse_by(d.pop("by"))

        op = StepGroupbyOp(d.pop("op"))

        _agg = d.pop("agg", UNSET)
        agg: StepGroupbyAgg | Unset
        if isinstance(_agg, Unset):
            agg = UNSET
        else:
            agg = StepGroupbyAgg.from_dict(_agg)

        _transform = d.pop("transform", UNSET)
        transform: StepGroupbyTransform | Unset
        if isinstance(_transform, Unset):
            transform = UNSET
        else:
            transform = StepGroupbyTransform.from_dict(_transform)

        sort = d.pop("sort", UNSET)

        step_groupby = cls(
            by=by,
            op=op,
            agg=agg,
            transform=transform,
            sort=sort,
        )

        step_groupby.additional_properties = d
        return step_groupby

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
