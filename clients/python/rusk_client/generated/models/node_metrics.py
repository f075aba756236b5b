from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="NodeMetrics")


@_attrs_define
class NodeMetrics:
    """An operator's figures from a finished run, as DataFusion counted them.

    Attributes:
        output_rows (int | None | Unset):
        elapsed_compute_ns (int | None | Unset): CPU time spent in the operator itself, in nanoseconds.
        spill_count (int | None | Unset):
        spilled_bytes (int | None | Unset):
        memory_peak_bytes (int | None | Unset): The most memory the operator held, summed over its partitions, where it
            reports it
            (sorts, aggregations, joins).
        bytes_scanned (int | None | Unset): Parquet scans: bytes read from their files.
        scan_filter_rows_dropped (int | None | Unset): Parquet scans whose filters run while decoding: rows those
            filters dropped and kept,
            and the time spent evaluating them, in nanoseconds.
        scan_filter_rows_kept (int | None | Unset):
        scan_filter_ns (int | None | Unset):
        join_key_arrays (int | None | Unset): Hash joins: build sides looked up in an array indexed by the key (a
            perfect hash
            join) instead of a hash table, one per table built.
    """

    output_rows: int | None | Unset = UNSET
    elapsed_compute_ns: int | None | Unset = UNSET
    spill_count: int | None | Unset = UNSET
    spilled_bytes: int | None | Unset = UNSET
    memory_peak_bytes: int | None | Unset = UNSET
    bytes_scanned: int | None | Unset = UNSET
    scan_filter_rows_dropped: int | None | Unset = UNSET
    scan_filter_rows_kept: int | None | Unset = UNSET
    scan_filter_ns: int | None | Unset = UNSET
    join_key_arrays: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        output_rows: int | None | Unset
        if isinstance(self.output_rows, Unset):
            output_rows = UNSET
        else:
            output_rows = self.output_rows

        elapsed_compute_ns: int | None | Unset
        if isinstance(self.elapsed_compute_ns, Unset):
            elapsed_compute_ns = UNSET
        else:
            elapsed_compute_ns = self.elapsed_compute_ns

        spill_count: int | None | Unset
        if isinstance(self.spill_count, Unset):
            spill_count = UNSET
        else:
            spill_count = self.spill_count

        spilled_bytes: int | None | Unset
        if isinstance(self.spilled_bytes, Unset):
            spilled_bytes = UNSET
        else:
            spilled_bytes = self.spilled_bytes

        memory_peak_bytes: int | None | Unset
        if isinstance(self.memory_peak_bytes, Unset):
            memory_peak_bytes = UNSET
        else:
            memory_peak_bytes = self.memory_peak_bytes

        bytes_scanned: int | None | Unset
        if isinstance(self.bytes_scanned, Unset):
            bytes_scanned = UNSET
        else:
            bytes_scanned = self.bytes_scanned

        scan_filter_rows_dropped: int | None | Unset
        if isinstance(self.scan_filter_rows_dropped, Unset):
            scan_filter_rows_dropped = UNSET
        else:
            scan_filter_rows_dropped = self.scan_filter_rows_dropped

        scan_filter_rows_kept: int | None | Unset
        if isinstance(self.scan_filter_rows_kept, Unset):
            scan_filter_rows_kept = UNSET
        else:
            scan_filter_rows_kept = self.scan_filter_rows_kept

        scan_filter_ns: int | None | Unset
        if isinstance(self.scan_filter_ns, Unset):
            scan_filter_ns = UNSET
        else:
            scan_filter_ns = self.scan_filter_ns

        join_key_arrays: int | None | Unset
        if isinstance(self.join_key_arrays, Unset):
            join_key_arrays = UNSET
        else:
            join_key_arrays = self.join_key_arrays

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if output_rows is not UNSET:
            field_dict["output_rows"] = output_rows
        if elapsed_compute_ns is not UNSET:
            field_dict["elapsed_compute_ns"] = elapsed_compute_ns
        if spill_count is not UNSET:
            field_dict["spill_count"] = spill_count
        if spilled_bytes is not UNSET:
            field_dict["spilled_bytes"] = spilled_bytes
        if memory_peak_bytes is not UNSET:
            field_dict["memory_peak_bytes"] = memory_peak_bytes
        if bytes_scanned is not UNSET:
            field_dict["bytes_scanned"] = bytes_scanned
        if scan_filter_rows_dropped is not UNSET:
            field_dict["scan_filter_rows_dropped"] = scan_filter_rows_dropped
        if scan_filter_rows_kept is not UNSET:
            field_dict["scan_filter_rows_kept"] = scan_filter_rows_kept
        if scan_filter_ns is not UNSET:
            field_dict["scan_filter_ns"] = scan_filter_ns
        if join_key_arrays is not UNSET:
            field_dict["join_key_arrays"] = join_key_arrays

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_output_rows(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        output_rows = _parse_output_rows(d.pop("output_rows", UNSET))

        def _parse_elapsed_compute_ns(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        elapsed_compute_ns = _parse_elapsed_compute_ns(d.pop("elapsed_compute_ns", UNSET))

        def _parse_spill_count(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        spill_count = _parse_spill_count(d.pop("spill_count", UNSET))

        def _parse_spilled_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        spilled_bytes = _parse_spilled_bytes(d.pop("spilled_bytes", UNSET))

        def _parse_memory_peak_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        memory_peak_bytes = _parse_memory_peak_bytes(d.pop("memory_peak_bytes", UNSET))

        def _parse_bytes_scanned(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        bytes_scanned = _parse_bytes_scanned(d.pop("bytes_scanned", UNSET))

        def _parse_scan_filter_rows_dropped(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        scan_filter_rows_dropped = _parse_scan_filter_rows_dropped(d.pop("scan_filter_rows_dropped", UNSET))

        def _parse_scan_filter_rows_kept(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        scan_filter_rows_kept = _parse_scan_filter_rows_kept(d.pop("scan_filter_rows_kept", UNSET))

        def _parse_scan_filter_ns(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        scan_filter_ns = _parse_scan_filter_ns(d.pop("scan_filter_ns", UNSET))

        def _parse_join_key_arrays(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        join_key_arrays = _parse_join_key_arrays(d.pop("join_key_arrays", UNSET))

        node_metrics = cls(
            output_rows=output_rows,
            elapsed_compute_ns=elapsed_compute_ns,
            spill_count=spill_count,
            spilled_bytes=spilled_bytes,
            memory_peak_bytes=memory_peak_bytes,
            bytes_scanned=bytes_scanned,
            scan_filter_rows_dropped=scan_filter_rows_dropped,
            scan_filter_rows_kept=scan_filter_rows_kept,
            scan_filter_ns=scan_filter_ns,
            join_key_arrays=join_key_arrays,
        )

        node_metrics.additional_properties = d
        return node_metrics

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
