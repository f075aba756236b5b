from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.node_metrics import NodeMetrics


T = TypeVar("T", bound="TaskNode")


@_attrs_define
class TaskNode:
    """
    Attributes:
        id (int):
        operator (str): e.g. `AggregateExec`, `DataSourceExec`.
        detail (str): The operator's one-line description: expressions, files, limits.
        partitions (int): Partitions the operator produces, run in parallel.
        metrics (NodeMetrics | None | Unset):
    """

    id: int
    operator: str
    detail: str
    partitions: int
    metrics: NodeMetrics | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.node_metrics import NodeMetrics  # noqa: PLC0415

        id = self.id

        operator = self.operator

        detail = self.detail

        partitions = self.partitions

        metrics: dict[str, Any] | None | Unset
        if isinstance(self.metrics, Unset):
            metrics = UNSET
        elif isinstance(self.metrics, NodeMetrics):
            metrics = self.metrics.to_dict()
        else:
            metrics = self.metrics

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "operator": operator,
                "detail": detail,
                "partitions": partitions,
            }
        )
        if metrics is not UNSET:
            field_dict["metrics"] = metrics

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.node_metrics import NodeMetrics  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        operator = d.pop("operator")

        detail = d.pop("detail")

        partitions = d.pop("partitions")

        def _parse_metrics(data: object) -> NodeMetrics | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metrics_type_0 = NodeMetrics.from_dict(data)

                return metrics_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(NodeMetrics | None | Unset, data)

        metrics = _parse_metrics(d.pop("metrics", UNSET))

        task_node = cls(
            id=id,
            operator=operator,
            detail=detail,
            partitions=partitions,
            metrics=metrics,
        )

        task_node.additional_properties = d
        return task_node

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
