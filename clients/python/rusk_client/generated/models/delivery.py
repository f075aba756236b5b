from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.delivery_state import DeliveryState
from ..models.event_type import EventType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.delivery_attempt import DeliveryAttempt


T = TypeVar("T", bound="Delivery")


@_attrs_define
class Delivery:
    """A webhook message for one job event, and its attempts so far.

    Attributes:
        id (str): The `webhook-id` header: the same on every retry, so receivers can deduplicate.
        job_id (UUID):
        url (str):
        type_ (EventType): What a webhook message announces: the job's terminal state.
        state (DeliveryState):
        attempts (int): Attempts made (or begun) so far.
        created_at (datetime.datetime):
        attempt_log (list[DeliveryAttempt]):
        next_attempt_at (datetime.datetime | None | Unset): When the next attempt is due, while `pending`.
    """

    id: str
    job_id: UUID
    url: str
    type_: EventType
    state: DeliveryState
    attempts: int
    created_at: datetime.datetime
    attempt_log: list[DeliveryAttempt]
    next_attempt_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        job_id = str(self.job_id)

        url = self.url

        type_ = self.type_.value

        state = self.state.value

        attempts = self.attempts

        created_at = self.created_at.isoformat()

        attempt_log = []
        for attempt_log_item_data in self.attempt_log:
            attempt_log_item = attempt_log_item_data.to_dict()
            attempt_log.append(attempt_log_item)

        next_attempt_at: None | str | Unset
        if isinstance(self.next_attempt_at, Unset):
            next_attempt_at = UNSET
        elif isinstance(self.next_attempt_at, datetime.datetime):
            next_attempt_at = self.next_attempt_at.isoformat()
        else:
            next_attempt_at = self.next_attempt_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "job_id": job_id,
                "url": url,
                "type": type_,
                "state": state,
                "attempts": attempts,
                "created_at": created_at,
                "attempt_log": attempt_log,
            }
        )
        if next_attempt_at is not UNSET:
            field_dict["next_attempt_at"] = next_attempt_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.delivery_attempt import DeliveryAttempt  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        job_id = UUID(d.pop("job_id"))

        url = d.pop("url")

        type_ = EventType(d.pop("type"))

        state = DeliveryState(d.pop("state"))

        attempts = d.pop("attempts")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        attempt_log = []
        _attempt_log = d.pop("attempt_log")
        for attempt_log_item_data in _attempt_log:
            attempt_log_item = DeliveryAttempt.from_dict(attempt_log_item_data)

            attempt_log.append(attempt_log_item)

        def _parse_next_attempt_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        next_attempt_at = _parse_next_attempt_at(d.pop("next_attempt_at", UNSET))

        delivery = cls(
            id=id,
            job_id=job_id,
            url=url,
            type_=type_,
            state=state,
            attempts=attempts,
            created_at=created_at,
            attempt_log=attempt_log,
            next_attempt_at=next_attempt_at,
        )

        delivery.additional_properties = d
        return delivery

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
