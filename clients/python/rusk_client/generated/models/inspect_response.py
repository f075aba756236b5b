from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.column_schema import ColumnSchema


T = TypeVar("T", bound="InspectResponse")


@_attrs_define
class InspectResponse:
    """
    Attributes:
        schema (list[ColumnSchema]):
        files (int): Files the source's path names.
        partitions (int): Partitions a scan is split into (the unit of parallel work).
        head (list[Any]): The first rows, as objects (null fields left out).
    """

    schema: list[ColumnSchema]
    files: int
    partitions: int
    head: list[Any]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        schema = []
        for schema_item_data in self.schema:
            schema_item = schema_item_data.to_dict()
            schema.append(schema_item)

        files = self.files

        partitions = self.partitions

        head = self.head

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "schema": schema,
                "files": files,
                "partitions": partitions,
                "head": head,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.column_schema import ColumnSchema  # noqa: PLC0415

        d = dict(src_dict)
        schema = []
        _schema = d.pop("schema")
        for schema_item_data in _schema:
            schema_item = ColumnSchema.from_dict(schema_item_data)

            schema.append(schema_item)

        files = d.pop("files")

        partitions = d.pop("partitions")

        head = cast(list[Any], d.pop("head"))

        inspect_response = cls(
            schema=schema,
            files=files,
            partitions=partitions,
            head=head,
        )

        inspect_response.additional_properties = d
        return inspect_response

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
