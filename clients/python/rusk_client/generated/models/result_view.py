from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.column_schema import ColumnSchema
    from ..models.file_view import FileView
    from ..models.links import Links
    from ..models.ml_summary import MlSummary


T = TypeVar("T", bound="ResultView")


@_attrs_define
class ResultView:
    """
    Attributes:
        rows (int):
        bytes_ (int):
        schema (list[ColumnSchema]):
        files (list[FileView]): The first result files (at most 100), in row order; `GET /v1/jobs/{id}/files/{i}`
            serves any of them.
        file_count (int): How many result files there are in all.
        links (Links): The whole result in one download.
        expires_at (datetime.datetime): When the links stop working (`RUSK_LINK_TTL` after this response was made).
        ml (MlSummary | None | Unset):
        retained_until (datetime.datetime | None | Unset): When the result's files are deleted (`result_ttl_s`,
            `RUSK_RESULT_TTL`); `null`:
            kept until the job is deleted.
        expired_at (datetime.datetime | None | Unset): When they were: downloads answer 410 since.
    """

    rows: int
    bytes_: int
    schema: list[ColumnSchema]
    files: list[FileView]
    file_count: int
    links: Links
    expires_at: datetime.datetime
    ml: MlSummary | None | Unset = UNSET
    retained_until: datetime.datetime | None | Unset = UNSET
    expired_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.ml_summary import MlSummary  # noqa: PLC0415

        rows = self.rows

        bytes_ = self.bytes_

        schema = []
        for schema_item_data in self.schema:
            schema_item = schema_item_data.to_dict()
            schema.append(schema_item)

        files = []
        for files_item_data in self.files:
            files_item = files_item_data.to_dict()
            files.append(files_item)

        file_count = self.file_count

        links = self.links.to_dict()

        expires_at = self.expires_at.isoformat()

        ml: dict[str, Any] | None | Unset
        if isinstance(self.ml, Unset):
            ml = UNSET
        elif isinstance(self.ml, MlSummary):
            ml = self.ml.to_dict()
        else:
            ml = self.ml

        retained_until: None | str | Unset
        if isinstance(self.retained_until, Unset):
            retained_until = UNSET
        elif isinstance(self.retained_until, datetime.datetime):
            retained_until = self.retained_until.isoformat()
        else:
            retained_until = self.retained_until

        expired_at: None | str | Unset
        if isinstance(self.expired_at, Unset):
            expired_at = UNSET
        elif isinstance(self.expired_at, datetime.datetime):
            expired_at = self.expired_at.isoformat()
        else:
            expired_at = self.expired_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "rows": rows,
                "bytes": bytes_,
                "schema": schema,
                "files": files,
                "file_count": file_count,
                "links": links,
                "expires_at": expires_at,
            }
        )
        if ml is not UNSET:
            field_dict["ml"] = ml
        if retained_until is not UNSET:
            field_dict["retained_until"] = retained_until
        if expired_at is not UNSET:
            field_dict["expired_at"] = expired_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.column_schema import ColumnSchema  # noqa: PLC0415
        from ..models.file_view import FileView  # noqa: PLC0415
        from ..models.links import Links  # noqa: PLC0415
        from ..models.ml_summary import MlSummary  # noqa: PLC0415

        d = dict(src_dict)
        rows = d.pop("rows")

        bytes_ = d.pop("bytes")

        schema = []
        _schema = d.pop("schema")
        for schema_item_data in _schema:
            schema_item = ColumnSchema.from_dict(schema_item_data)

            schema.append(schema_item)

        files = []
        _files = d.pop("files")
        for files_item_data in _files:
            files_item = FileView.from_dict(files_item_data)

            files.append(files_item)

        file_count = d.pop("file_count")

        links = Links.from_dict(d.pop("links"))

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        def _parse_ml(data: object) -> MlSummary | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                ml_type_0 = MlSummary.from_dict(data)

                return ml_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MlSummary | None | Unset, data)

        ml = _parse_ml(d.pop("ml", UNSET))

        def _parse_retained_until(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                retained_until_type_0 = datetime.datetime.fromisoformat(data)

                return retained_until_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        retained_until = _parse_retained_until(d.pop("retained_until", UNSET))

        def _parse_expired_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expired_at_type_0 = datetime.datetime.fromisoformat(data)

                return expired_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        expired_at = _parse_expired_at(d.pop("expired_at", UNSET))

        result_view = cls(
            rows=rows,
            bytes_=bytes_,
            schema=schema,
            files=files,
            file_count=file_count,
            links=links,
            expires_at=expires_at,
            ml=ml,
            retained_until=retained_until,
            expired_at=expired_at,
        )

        result_view.additional_properties = d
        return result_view

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
