from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_resample_op import StepResampleOp
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.step_resample_agg import StepResampleAgg


T = TypeVar("T", bound="StepResample")


@_attrs_define
class StepResample:
    """Time buckets of `on`: `df.resample(rule, on=on).agg(agg)`, or with `by`
    `df.groupby(by).resample(rule, on=on).agg(agg)`. `rule`: `Ns`, `Nmin`, `Nh`, `ND`
    (buckets from midnight of the group's first day, as pandas' default origin), `W`
    (weeks to Sunday, labelled by that Sunday) or `MS` (months, labelled by their first
    day). Buckets without rows between a group's first and last appear, as in pandas:
    `sum`, `count`, `size` and `nunique` 0, the rest null. Sorted by `by` and bucket. A
    time-zone-aware `on` is bucketed in its local time.

        Attributes:
            on (str):
            rule (str):
            agg (StepResampleAgg):
            op (StepResampleOp):
            by (list[str] | None | str | Unset):
    """

    on: str
    rule: str
    agg: StepResampleAgg
    op: StepResampleOp
    by: list[str] | None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        on = self.on

        rule = self.rule

        agg = self.agg.to_dict()

        op = self.op.value

        by: list[str] | None | str | Unset
        if isinstance(self.by, Unset):
            by = UNSET
        elif isinstance(self.by, list):
            by = self.by

        else:
            by = self.by

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "on": on,
                "rule": rule,
                "agg": agg,
                "op": op,
            }
        )
        if by is not UNSET:
            field_dict["by"] = by

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.step_resample_agg import StepResampleAgg  # noqa: PLC0415

        d = dict(src_dict)
        on = d.pop("on")

        rule = d.pop("rule")

        agg = StepResampleAgg.from_dict(d.pop("agg"))

        op = StepResampleOp(d.pop("op"))

        def _parse_by(data: object) -> list[str] | None | str | Unset:
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

        by = _parse_by(d.pop("by", UNSET))

        step_resample = cls(
            on=on,
            rule=rule,
            agg=agg,
            op=op,
            by=by,
        )

        step_resample.additional_properties = d
        return step_resample

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
