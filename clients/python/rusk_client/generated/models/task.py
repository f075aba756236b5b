from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Task")


@_attrs_define
class Task:
    """A span as kept: which attempt and which worker process.

    Attributes:
        seq (int): Position within the attempt (stable while the attempt runs).
        node (int): The plan node (`GET /v1/jobs/{id}/plan`'s `nodes[].id`); for ML fits, one past the
            plan's last node.
        operator (str): The operator as in the physical plan (`AggregateExec`, …), or `fit` for an ML fit.
        partition (int): The partition (for ML fits, the fold).
        started_at (datetime.datetime):
        rows (int):
        compute_ns (int): Time spent computing (not waiting for input), in nanoseconds.
        spill_count (int):
        spilled_bytes (int):
        attempt (int):
        worker (str):
        detail (None | str | Unset): For ML fits: the candidate and its parameters.
        ended_at (datetime.datetime | None | Unset): `null` while it runs.
        bytes_ (int | None | Unset): Bytes of output, where the operator counts them.
        memory_peak (int | None | Unset): The most memory the operator held on this partition, where it reports it.
    """

    seq: int
    node: int
    operator: str
    partition: int
    started_at: datetime.datetime
    rows: int
    compute_ns: int
    spill_count: int
    spilled_bytes: int
    attempt: int
    worker: str
    detail: None | str | Unset = UNSET
    ended_at: datetime.datetime | None | Unset = UNSET
    bytes_: int | None | Unset = UNSET
    memory_peak: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        seq = self.seq

        node = self.node

        operator = self.operator

        partition = self.partition

        started_at = self.started_at.isoformat()

        rows = self.rows

        compute_ns = self.compute_ns

        spill_count = self.spill_count

        spilled_bytes = self.spilled_bytes

        attempt = self.attempt

        worker = self.worker

        detail: None | str | Unset
        if isinstance(self.detail, Unset):
            detail = UNSET
        else:
            detail = self.detail

        ended_at: None | str | Unset
        if isinstance(self.ended_at, Unset):
            ended_at = UNSET
        elif isinstance(self.ended_at, datetime.datetime):
            ended_at = self.ended_at.isoformat()
        else:
            ended_at = self.ended_at

        bytes_: int | None | Unset
        if isinstance(self.bytes_, Unset):
            bytes_ = UNSET
        else:
            bytes_ = self.bytes_

        memory_peak: int | None | Unset
        if isinstance(self.memory_peak, Unset):
            memory_peak = UNSET
        else:
            memory_peak = self.memory_peak

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "seq": seq,
                "node": node,
                "operator": operator,
                "partition": partition,
                "started_at": started_at,
                "rows": rows,
                "compute_ns": compute_ns,
                "spill_count": spill_count,
                "spilled_bytes": spilled_bytes,
                "attempt": attempt,
                "worker": worker,
            }
        )
        if detail is not UNSET:
            field_dict["detail"] = detail
        if ended_at is not UNSET:
            field_dict["ended_at"] = ended_at
        if bytes_ is not UNSET:
            field_dict["bytes"] = bytes_
        if memory_peak is not UNSET:
            field_dict["memory_peak"] = memory_peak

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        seq = d.pop("seq")

        node = d.pop("node")

        operator = d.pop("operator")

        partition = d.pop("partition")

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))

        rows = d.pop("rows")

        compute_ns = d.pop("compute_ns")

        spill_count = d.pop("spill_count")

        spilled_bytes = d.pop("spilled_bytes")

        attempt = d.pop("attempt")

        worker = d.pop("worker")

        def _parse_detail(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        detail = _parse_detail(d.pop("detail", UNSET))

        def _parse_ended_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                ended_at_type_0 = datetime.datetime.fromisoformat(data)

                return ended_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        ended_at = _parse_ended_at(d.pop("ended_at", UNSET))

        def _parse_bytes_(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        bytes_ = _parse_bytes_(d.pop("bytes", UNSET))

        def _parse_memory_peak(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        memory_peak = _parse_memory_peak(d.pop("memory_peak", UNSET))

        task = cls(
            seq=seq,
            node=node,
            operator=operator,
            partition=partition,
            started_at=started_at,
            rows=rows,
            compute_ns=compute_ns,
            spill_count=spill_count,
            spilled_bytes=spilled_bytes,
            attempt=attempt,
            worker=worker,
            detail=detail,
            ended_at=ended_at,
            bytes_=bytes_,
            memory_peak=memory_peak,
        )

        task.additional_properties = d
        return task

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
