from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.scoring import Scoring
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.ml_summary_best_params_type_0 import MlSummaryBestParamsType0
    from ..models.ml_summary_metrics_type_0 import MlSummaryMetricsType0
    from ..models.ml_summary_params_type_0 import MlSummaryParamsType0


T = TypeVar("T", bound="MlSummary")


@_attrs_define
class MlSummary:
    """An ML job's summary: `model_id`, `metrics`, `params` (`fit`); `best_params`, `best_score`,
    `scoring`, `metrics` (`grid_search`); `model_id`, `rows` (`predict`).

        Attributes:
            model_id (str):
            rows (int | None | Unset): Rows scored (`predict`).
            best_params (MlSummaryBestParamsType0 | None | Unset): The winning parameters (`grid_search`).
            best_score (float | None | Unset): Their mean cross-validated score (`grid_search`).
            scoring (None | Scoring | Unset):
            metrics (MlSummaryMetricsType0 | None | Unset): Held-out scores of the trained model.
            params (MlSummaryParamsType0 | None | Unset): The parameters it was trained with (`fit`).
    """

    model_id: str
    rows: int | None | Unset = UNSET
    best_params: MlSummaryBestParamsType0 | None | Unset = UNSET
    best_score: float | None | Unset = UNSET
    scoring: None | Scoring | Unset = UNSET
    metrics: MlSummaryMetricsType0 | None | Unset = UNSET
    params: MlSummaryParamsType0 | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.ml_summary_best_params_type_0 import MlSummaryBestParamsType0  # noqa: PLC0415
        from ..models.ml_summary_metrics_type_0 import MlSummaryMetricsType0  # noqa: PLC0415
        from ..models.ml_summary_params_type_0 import MlSummaryParamsType0  # noqa: PLC0415

        model_id = self.model_id

        rows: int | None | Unset
        if isinstance(self.rows, Unset):
            rows = UNSET
        else:
            rows = self.rows

        best_params: dict[str, Any] | None | Unset
        if isinstance(self.best_params, Unset):
            best_params = UNSET
        elif isinstance(self.best_params, MlSummaryBestParamsType0):
            best_params = self.best_params.to_dict()
        else:
            best_params = self.best_params

        best_score: float | None | Unset
        if isinstance(self.best_score, Unset):
            best_score = UNSET
        else:
            best_score = self.best_score

        scoring: None | str | Unset
        if isinstance(self.scoring, Unset):
            scoring = UNSET
        elif isinstance(self.scoring, Scoring):
            scoring = self.scoring.value
        else:
            scoring = self.scoring

        metrics: dict[str, Any] | None | Unset
        if isinstance(self.metrics, Unset):
            metrics = UNSET
        elif isinstance(self.metrics, MlSummaryMetricsType0):
            metrics = self.metrics.to_dict()
        else:
            metrics = self.metrics

        params: dict[str, Any] | None | Unset
        if isinstance(self.params, Unset):
            params = UNSET
        elif isinstance(self.params, MlSummaryParamsType0):
            params = self.params.to_dict()
        else:
            params = self.params

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model_id": model_id,
            }
        )
        if rows is not UNSET:
            field_dict["rows"] = rows
        if best_params is not UNSET:
            field_dict["best_params"] = best_params
        if best_score is not UNSET:
            field_dict["best_score"] = best_score
        if scoring is not UNSET:
            field_dict["scoring"] = scoring
        if metrics is not UNSET:
            field_dict["metrics"] = metrics
        if params is not UNSET:
            field_dict["params"] = params

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ml_summary_best_params_type_0 import MlSummaryBestParamsType0  # noqa: PLC0415
        from ..models.ml_summary_metrics_type_0 import MlSummaryMetricsType0  # noqa: PLC0415
        from ..models.ml_summary_params_type_0 import MlSummaryParamsType0  # noqa: PLC0415

        d = dict(src_dict)
        model_id = d.pop("model_id")

        def _parse_rows(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rows = _parse_rows(d.pop("rows", UNSET))

        def _parse_best_params(data: object) -> MlSummaryBestParamsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                best_params_type_0 = MlSummaryBestParamsType0.from_dict(data)

                return best_params_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MlSummaryBestParamsType0 | None | Unset, data)

        best_params = _parse_best_params(d.pop("best_params", UNSET))

        def _parse_best_score(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        best_score = _parse_best_score(d.pop("best_score", UNSET))

        def _parse_scoring(data: object) -> None | Scoring | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                scoring_type_0 = Scoring(data)

                return scoring_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Scoring | Unset, data)

        scoring = _parse_scoring(d.pop("scoring", UNSET))

        def _parse_metrics(data: object) -> MlSummaryMetricsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metrics_type_0 = MlSummaryMetricsType0.from_dict(data)

                return metrics_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MlSummaryMetricsType0 | None | Unset, data)

        metrics = _parse_metrics(d.pop("metrics", UNSET))

        def _parse_params(data: object) -> MlSummaryParamsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                params_type_0 = MlSummaryParamsType0.from_dict(data)

                return params_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MlSummaryParamsType0 | None | Unset, data)

        params = _parse_params(d.pop("params", UNSET))

        ml_summary = cls(
            model_id=model_id,
            rows=rows,
            best_params=best_params,
            best_score=best_score,
            scoring=scoring,
            metrics=metrics,
            params=params,
        )

        ml_summary.additional_properties = d
        return ml_summary

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
