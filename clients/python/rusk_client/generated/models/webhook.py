from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Webhook")


@_attrs_define
class Webhook:
    """A completion webhook: `POST {type, data: job}` signed per Standard Webhooks.

    Attributes:
        url (str): An `https://` (or `http://`) URL on the public internet. Example: https://example.com/hooks/rusk.
    """

    url: str

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "url": url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        url = d.pop("url")

        webhook = cls(
            url=url,
        )

        return webhook
