from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.file_compression import FileCompression
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.csv_options_dtype import CsvOptionsDtype


T = TypeVar("T", bound="CsvOptions")


@_attrs_define
class CsvOptions:
    """Options for reading CSV (only valid with `"format": "csv"`).

    Attributes:
        has_header (bool | None | Unset):
        delimiter (None | str | Unset): One character; default `,`.
        quote (None | str | Unset): One character; default `"`.
        null_values (list[str] | None | Unset): Cell texts read as null (in addition to the empty cell).
        dtype (CsvOptionsDtype | Unset): Column → type, overriding inference.
        parse_dates (list[str] | Unset): Columns read as times (pandas' `parse_dates`): ISO 8601 texts such as
            `2024-03-01 12:00:00`; a text with a UTC offset (`…+01:00`, `…Z`) is that instant.
        tz (None | str | Unset): The time zone of the `parse_dates` columns (`"Europe/Paris"`, `"UTC"`): texts without
            an offset are local times there, as pandas' `tz_localize`, and the columns keep the
            zone (`datetime64[ns, tz]`). Without it the columns are naive, and texts with an offset
            are converted to UTC.
        schema_infer_rows (int | None | Unset): Rows read to infer types; default 1000.
        compression (FileCompression | None | Unset):
    """

    has_header: bool | None | Unset = UNSET
    delimiter: None | str | Unset = UNSET
    quote: None | str | Unset = UNSET
    null_values: list[str] | None | Unset = UNSET
    dtype: CsvOptionsDtype | Unset = UNSET
    parse_dates: list[str] | Unset = UNSET
    tz: None | str | Unset = UNSET
    schema_infer_rows: int | None | Unset = UNSET
    compression: FileCompression | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        has_header: bool | None | Unset
        if isinstance(self.has_header, Unset):
            has_header = UNSET
        else:
            has_header = self.has_header

        delimiter: None | str | Unset
        if isinstance(self.delimiter, Unset):
            delimiter = UNSET
        else:
            delimiter = self.delimiter

        quote: None | str | Unset
        if isinstance(self.quote, Unset):
            quote = UNSET
        else:
            quote = self.quote

        null_values: list[str] | None | Unset
        if isinstance(self.null_values, Unset):
            null_values = UNSET
        elif isinstance(self.null_values, list):
            null_values = self.null_values

        else:
            null_values = self.null_values

        dtype: dict[str, Any] | Unset = UNSET
        if not isinstance(self.dtype, Unset):
            dtype = self.dtype.to_dict()

        parse_dates: list[str] | Unset = UNSET
        if not isinstance(self.parse_dates, Unset):
            parse_dates = self.parse_dates

        tz: None | str | Unset
        if isinstance(self.tz, Unset):
            tz = UNSET
        else:
            tz = self.tz

        schema_infer_rows: int | None | Unset
        if isinstance(self.schema_infer_rows, Unset):
            schema_infer_rows = UNSET
        else:
            schema_infer_rows = self.schema_infer_rows

        compression: None | str | Unset
        if isinstance(self.compression, Unset):
            compression = UNSET
        elif isinstance(self.compression, FileCompression):
            compression = self.compression.value
        else:
            compression = self.compression

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if has_header is not UNSET:
            field_dict["has_header"] = has_header
        if delimiter is not UNSET:
            field_dict["delimiter"] = delimiter
        if quote is not UNSET:
            field_dict["quote"] = quote
        if null_values is not UNSET:
            field_dict["null_values"] = null_values
        if dtype is not UNSET:
            field_dict["dtype"] = dtype
        if parse_dates is not UNSET:
            field_dict["parse_dates"] = parse_dates
        if tz is not UNSET:
            field_dict["tz"] = tz
        if schema_infer_rows is not UNSET:
            field_dict["schema_infer_rows"] = schema_infer_rows
        if compression is not UNSET:
            field_dict["compression"] = compression

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.csv_options_dtype import CsvOptionsDtype  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_has_header(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        has_header = _parse_has_header(d.pop("has_header", UNSET))

        def _parse_delimiter(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        delimiter = _parse_delimiter(d.pop("delimiter", UNSET))

        def _parse_quote(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        quote = _parse_quote(d.pop("quote", UNSET))

        def _parse_null_values(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                null_values_type_0 = cast(list[str], data)

                return null_values_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        null_values = _parse_null_values(d.pop("null_values", UNSET))

        _dtype = d.pop("dtype", UNSET)
        dtype: CsvOptionsDtype | Unset
        if isinstance(_dtype, Unset):
            dtype = UNSET
        else:
            dtype = CsvOptionsDtype.from_dict(_dtype)

        parse_dates = cast(list[str], d.pop("parse_dates", UNSET))

        def _parse_tz(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tz = _parse_tz(d.pop("tz", UNSET))

        def _parse_schema_infer_rows(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        schema_infer_rows = _parse_schema_infer_rows(d.pop("schema_infer_rows", UNSET))

        def _parse_compression(data: object) -> FileCompression | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                compression_type_0 = FileCompression(data)

                return compression_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FileCompression | None | Unset, data)

        compression = _parse_compression(d.pop("compression", UNSET))

        csv_options = cls(
            has_header=has_header,
            delimiter=delimiter,
            quote=quote,
            null_values=null_values,
            dtype=dtype,
            parse_dates=parse_dates,
            tz=tz,
            schema_infer_rows=schema_infer_rows,
            compression=compression,
        )

        return csv_options
