from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.compression import Compression
from ..models.output_format import OutputFormat
from ..models.write_mode import WriteMode
from ..types import UNSET, Unset

T = TypeVar("T", bound="Output")


@_attrs_define
class Output:
    """How the result is written.

    Attributes:
        format_ (OutputFormat | Unset):
        compression (Compression | None | Unset):
        partition_size (None | str | Unset): Target size of each result file, e.g. `"100MB"`; default `"128MB"`.
        npartitions (int | None | Unset): Write exactly this many result files instead (batches are dealt round-robin,
            so row
            order is kept within a file, not across files).
        single_file (bool | Unset): Write one file (as Dask's `to_csv(single_file=True)`); the same as `npartitions: 1`.
        path (None | str | Unset): Write the result dataset here instead of Rusk's result store: a directory under the
            data root (`out/daily`, `file:///…`) or an object-store URL (`s3://bucket/prefix`).
            The files appear only when the job succeeds; they are the caller's, never deleted by
            Rusk. Example: s3://processed-data/dataset.parquet.
        mode (WriteMode | Unset): How a job writes to an `output.path` that already holds files.
        partition_on (list[str] | Unset): Write Hive-style directories by these columns
            (`country=de/part-00000.parquet`), as
            Dask's `to_parquet(partition_on=…)`: the columns are in the directory names, not the
            files, and a filter on them reads only the matching directories.
    """

    format_: OutputFormat | Unset = UNSET
    compression: Compression | None | Unset = UNSET
    partition_size: None | str | Unset = UNSET
    npartitions: int | None | Unset = UNSET
    single_file: bool | Unset = UNSET
    path: None | str | Unset = UNSET
    mode: WriteMode | Unset = UNSET
    partition_on: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        format_: str | Unset = UNSET
        if not isinstance(self.format_, Unset):
            format_ = self.format_.value

        compression: None | str | Unset
        if isinstance(self.compression, Unset):
            compression = UNSET
        elif isinstance(self.compression, Compression):
            compression = self.compression.value
        else:
            compression = self.compression

        partition_size: None | str | Unset
        if isinstance(self.partition_size, Unset):
            partition_size = UNSET
        else:
            partition_size = self.partition_size

        npartitions: int | None | Unset
        if isinstance(self.npartitions, Unset):
            npartitions = UNSET
        else:
            npartitions = self.npartitions

        single_file = self.single_file

        path: None | str | Unset
        if isinstance(self.path, Unset):
            path = UNSET
        else:
            path = self.path

        mode: str | Unset = UNSET
        if not isinstance(self.mode, Unset):
            mode = self.mode.value

        partition_on: list[str] | Unset = UNSET
        if not isinstance(self.partition_on, Unset):
            partition_on = self.partition_on

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if format_ is not UNSET:
            field_dict["format"] = format_
        if compression is not UNSET:
            field_dict["compression"] = compression
        if partition_size is not UNSET:
            field_dict["partition_size"] = partition_size
        if npartitions is not UNSET:
            field_dict["npartitions"] = npartitions
        if single_file is not UNSET:
            field_dict["single_file"] = single_file
        if path is not UNSET:
            field_dict["path"] = path
        if mode is not UNSET:
            field_dict["mode"] = mode
        if partition_on is not UNSET:
            field_dict["partition_on"] = partition_on

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _format_ = d.pop("format", UNSET)
        format_: OutputFormat | Unset
        if isinstance(_format_, Unset):
            format_ = UNSET
        else:
            format_ = OutputFormat(_format_)

        def _parse_compression(data: object) -> Compression | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                compression_type_0 = Compression(data)

                return compression_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Compression | None | Unset, data)

        compression = _parse_compression(d.pop("compression", UNSET))

        def _parse_partition_size(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        partition_size = _parse_partition_size(d.pop("partition_size", UNSET))

        def _parse_npartitions(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        npartitions = _parse_npartitions(d.pop("npartitions", UNSET))

        single_file = d.pop("single_file", UNSET)

        def _parse_path(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        path = _parse_path(d.pop("path", UNSET))

        _mode = d.pop("mode", UNSET)
        mode: WriteMode | Unset
        if isinstance(_mode, Unset):
            mode = UNSET
        else:
            mode = WriteMode(_mode)

        partition_on = cast(list[str], d.pop("partition_on", UNSET))

        output = cls(
            format_=format_,
            compression=compression,
            partition_size=partition_size,
            npartitions=npartitions,
            single_file=single_file,
            path=path,
            mode=mode,
            partition_on=partition_on,
        )

        return output
