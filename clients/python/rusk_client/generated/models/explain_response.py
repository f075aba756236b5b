from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.task_graph import TaskGraph


T = TypeVar("T", bound="ExplainResponse")


@_attrs_define
class ExplainResponse:
    """
    Attributes:
        logical (str): The optimized logical plan.
        physical (str): The physical plan, with partition counts.
        graph (TaskGraph): A plan's operators (nodes) and the data flowing between them (edges, child → parent).
    """

    logical: str
    physical: str
    graph: TaskGraph
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        logical = self.logical

        physical = self.physical

        graph = self.graph.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "logical": logical,
                "physical": physical,
                "graph": graph,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.task_graph import TaskGraph  # noqa: PLC0415

        d = dict(src_dict)
        logical = d.pop("logical")

        physical = d.pop("physical")

        graph = TaskGraph.from_dict(d.pop("graph"))

        explain_response = cls(
            logical=logical,
            physical=physical,
            graph=graph,
        )

        explain_response.additional_properties = d
        return explain_response

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
