from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.format_ import Format
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.csv_options import CsvOptions


T = TypeVar("T", bound="Source")


@_attrs_define
class Source:
    """
    Attributes:
        format_ (Format):
        path (list[str] | str):
        options (CsvOptions | Unset): Options for reading CSV (only valid with `"format": "csv"`).
    """

    format_: Format
    path: list[str] | str
    options: CsvOptions | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        format_ = self.format_.value

        path: list[str] | str
        if isinstance(self.path, list):
            path = self.path

        else:
            path = self.path

        options: dict[str, Any] | Unset = UNSET
        if not isinstance(self.options, Unset):
            options = self.options.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "format": format_,
                "path": path,
            }
        )
        if options is not UNSET:
            field_dict["options"] = options

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.csv_options import CsvOptions  # noqa: PLC0415

        d = dict(src_dict)
        format_ = Format(d.pop("format"))

        def _parse_path(data: object) -> list[str] | str:
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_paths_type_1 = cast(list[str], data)

                return componentsschemas_paths_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | str, data)

        path = _parse_path(d.pop("path"))

        _options = d.pop("options", UNSET)
        options: CsvOptions | Unset
        if isinstance(_options, Unset):
            options = UNSET
        else:
            options = CsvOptions.from_dict(_options)

        source = cls(
            format_=format_,
            path=path,
            options=options,
        )

        return source
