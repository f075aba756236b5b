from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Progress")


@_attrs_define
class Progress:
    """How far a job has got. Partitions are the scans' units of parallel work.

    Attributes:
        partitions_done (int):
        partitions_total (int):
        rows_read (int):
        bytes_read (int):
        rows_out (int):
        files_done (int | Unset): Files (or ranges of large files) the scans have finished, of all they read: finer
            than partitions, which each read several.
        files_total (int | Unset):
        stages_done (int | Unset): Stages of a job on the `ballista` engine that its cluster has finished, of all its
            stages (0 of 0 on the local engine, and until the scheduler has planned the job).
        stages_total (int | Unset):
    """

    partitions_done: int
    partitions_total: int
    rows_read: int
    bytes_read: int
    rows_out: int
    files_done: int | Unset = UNSET
    files_total: int | Unset = UNSET
    stages_done: int | Unset = UNSET
    stages_total: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        partitions_done = self.partitions_done

        partitions_total = self.partitions_total

        rows_read = self.rows_read

        bytes_read = self.bytes_read

        rows_out = self.rows_out

        files_done = self.files_done

        files_total = self.files_total

        stages_done = self.stages_done

        stages_total = self.stages_total

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "partitions_done": partitions_done,
                "partitions_total": partitions_total,
                "rows_read": rows_read,
                "bytes_read": bytes_read,
                "rows_out": rows_out,
            }
        )
        if files_done is not UNSET:
            field_dict["files_done"] = files_done
        if files_total is not UNSET:
            field_dict["files_total"] = files_total
        if stages_done is not UNSET:
            field_dict["stages_done"] = stages_done
        if stages_total is not UNSET:
            field_dict["stages_total"] = stages_total

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        partitions_done = d.pop("partitions_done")

        partitions_total = d.pop("partitions_total")

        rows_read = d.pop("rows_read")

        bytes_read = d.pop("bytes_read")

        rows_out = d.pop("rows_out")

        files_done = d.pop("files_done", UNSET)

        files_total = d.pop("files_total", UNSET)

        stages_done = d.pop("stages_done", UNSET)

        stages_total = d.pop("stages_total", UNSET)

        progress = cls(
            partitions_done=partitions_done,
            partitions_total=partitions_total,
            rows_read=rows_read,
            bytes_read=bytes_read,
            rows_out=rows_out,
            files_done=files_done,
            files_total=files_total,
            stages_done=stages_done,
            stages_total=stages_total,
        )

        progress.additional_properties = d
        return progress

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
