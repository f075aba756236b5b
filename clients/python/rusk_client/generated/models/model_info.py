from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.estimator import Estimator
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.model_info_metrics import ModelInfoMetrics
    from ..models.model_info_params import ModelInfoParams


T = TypeVar("T", bound="ModelInfo")


@_attrs_define
class ModelInfo:
    """A model trained by an ML job, as `GET /v1/models` lists it. Its weights live in the result
    store (`models/{id}/model.json`); this record is a row in the `model` table.

        Attributes:
            id (str): `model_` and 32 hex digits; ids sort by creation time.
            estimator (Estimator):
            params (ModelInfoParams): The parameters it was trained with (scikit-learn names).
            features (list[str]): The input columns a frame needs for `predict`.
            metrics (ModelInfoMetrics): Held-out scores from training.
            job_id (UUID): The job that trained it.
            created_at (datetime.datetime):
            tenant (str | Unset): The tenant that owns it (`default` while no API key exists).
            target (None | str | Unset):
            classes (list[str] | Unset): Class labels in the order of per-class probabilities (classifiers).
    """

    id: str
    estimator: Estimator
    params: ModelInfoParams
    features: list[str]
    metrics: ModelInfoMetrics
    job_id: UUID
    created_at: datetime.datetime
    tenant: str | Unset = UNSET
    target: None | str | Unset = UNSET
    classes: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        estimator = self.estimator.value

        params = self.params.to_dict()

        features = self.features

        metrics = self.metrics.to_dict()

        job_id = str(self.job_id)

        created_at = self.created_at.isoformat()

        tenant = self.tenant

        target: None | str | Unset
        if isinstance(self.target, Unset):
            target = UNSET
        else:
            target = self.target

        classes: list[str] | Unset = UNSET
        if not isinstance(self.classes, Unset):
            classes = self.classes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "estimator": estimator,
                "params": params,
                "features": features,
                "metrics": metrics,
                "job_id": job_id,
                "created_at": created_at,
            }
        )
        if tenant is not UNSET:
            field_dict["tenant"] = tenant
        if target is not UNSET:
            field_dict["target"] = target
        if classes is not UNSET:
            field_dict["classes"] = classes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.model_info_metrics import ModelInfoMetrics  # noqa: PLC0415
        from ..models.model_info_params import ModelInfoParams  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        estimator = Estimator(d.pop("estimator"))

        params = ModelInfoParams.from_dict(d.pop("params"))

        features = cast(list[str], d.pop("features"))

        metrics = ModelInfoMetrics.from_dict(d.pop("metrics"))

        job_id = UUID(d.pop("job_id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        tenant = d.pop("tenant", UNSET)

        def _parse_target(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        target = _parse_target(d.pop("target", UNSET))

        classes = cast(list[str], d.pop("classes", UNSET))

        model_info = cls(
            id=id,
            estimator=estimator,
            params=params,
            features=features,
            metrics=metrics,
            job_id=job_id,
            created_at=created_at,
            tenant=tenant,
            target=target,
            classes=classes,
        )

        model_info.additional_properties = d
        return model_info

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
