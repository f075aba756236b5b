from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.estimator import Estimator
from ..models.ml_task import MlTask
from ..models.scoring import Scoring
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.ml_spec_param_grid import MlSpecParamGrid
    from ..models.ml_spec_params import MlSpecParams
    from ..models.preprocess import Preprocess


T = TypeVar("T", bound="MlSpec")


@_attrs_define
class MlSpec:
    """
    Attributes:
        task (MlTask):
        estimator (Estimator | None | Unset):
        target (None | str | Unset): The column to predict (not for `kmeans`).
        features (list[str] | None | Unset): Input columns; default every column but the target.
        test_size (float | Unset): Share of rows held out for scoring, 0.05–0.5. Default: 0.25.
        seed (int | Unset): Seeds the split, the folds and the estimators' randomness.
        params (MlSpecParams | Unset): Estimator parameters by their scikit-learn names, e.g. `{"n_estimators": 100}`.
        param_grid (MlSpecParamGrid | Unset): `grid_search`: parameter name → the values to try.
        cv (int | Unset): `grid_search`: folds, 2–20. Default: 3.
        scoring (None | Scoring | Unset):
        preprocess (Preprocess | Unset):
        model (None | str | Unset): `predict`: the `model_id` of a model trained earlier.
        sample (int | None | Unset): Train on a seeded random sample of this many rows when the frame is larger.
    """

    task: MlTask
    estimator: Estimator | None | Unset = UNSET
    target: None | str | Unset = UNSET
    features: list[str] | None | Unset = UNSET
    test_size: float | Unset = 0.25
    seed: int | Unset = UNSET
    params: MlSpecParams | Unset = UNSET
    param_grid: MlSpecParamGrid | Unset = UNSET
    cv: int | Unset = 3
    scoring: None | Scoring | Unset = UNSET
    preprocess: Preprocess | Unset = UNSET
    model: None | str | Unset = UNSET
    sample: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        task = self.task.value

        estimator: None | str | Unset
        if isinstance(self.estimator, Unset):
            estimator = UNSET
        elif isinstance(self.estimator, Estimator):
            estimator = self.estimator.value
        else:
            estimator = self.estimator

        target: None | str | Unset
        if isinstance(self.target, Unset):
            target = UNSET
        else:
            target = self.target

        features: list[str] | None | Unset
        if isinstance(self.features, Unset):
            features = UNSET
        elif isinstance(self.features, list):
            features = self.features

        else:
            features = self.features

        test_size = self.test_size

        seed = self.seed

        params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.params, Unset):
            params = self.params.to_dict()

        param_grid: dict[str, Any] | Unset = UNSET
        if not isinstance(self.param_grid, Unset):
            param_grid = self.param_grid.to_dict()

        cv = self.cv

        scoring: None | str | Unset
        if isinstance(self.scoring, Unset):
            scoring = UNSET
        elif isinstance(self.scoring, Scoring):
            scoring = self.scoring.value
        else:
            scoring = self.scoring

        preprocess: dict[str, Any] | Unset = UNSET
        if not isinstance(self.preprocess, Unset):
            preprocess = self.preprocess.to_dict()

        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        sample: int | None | Unset
        if isinstance(self.sample, Unset):
            sample = UNSET
        else:
            sample = self.sample

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "task": task,
            }
        )
        if estimator is not UNSET:
            field_dict["estimator"] = estimator
        if target is not UNSET:
            field_dict["target"] = target
        if features is not UNSET:
            field_dict["features"] = features
        if test_size is not UNSET:
            field_dict["test_size"] = test_size
        if seed is not UNSET:
            field_dict["seed"] = seed
        if params is not UNSET:
            field_dict["params"] = params
        if param_grid is not UNSET:
            field_dict["param_grid"] = param_grid
        if cv is not UNSET:
            field_dict["cv"] = cv
        if scoring is not UNSET:
            field_dict["scoring"] = scoring
        if preprocess is not UNSET:
            field_dict["preprocess"] = preprocess
        if model is not UNSET:
            field_dict["model"] = model
        if sample is not UNSET:
            field_dict["sample"] = sample

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ml_spec_param_grid import MlSpecParamGrid  # noqa: PLC0415
        from ..models.ml_spec_params import MlSpecParams  # noqa: PLC0415
        from ..models.preprocess import Preprocess  # noqa: PLC0415

        d = dict(src_dict)
        task = MlTask(d.pop("task"))

        def _parse_estimator(data: object) -> Estimator | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                estimator_type_0 = Estimator(data)

                return estimator_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Estimator | None | Unset, data)

        estimator = _parse_estimator(d.pop("estimator", UNSET))

        def _parse_target(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        target = _parse_target(d.pop("target", UNSET))

        def _parse_features(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                features_type_0 = cast(list[str], data)

                return features_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        features = _parse_features(d.pop("features", UNSET))

        test_size = d.pop("test_size", UNSET)

        seed = d.pop("seed", UNSET)

        _params = d.pop("params", UNSET)
        params: MlSpecParams | Unset
        if isinstance(_params, Unset):
            params = UNSET
        else:
            params = MlSpecParams.from_dict(_params)

        _param_grid = d.pop("param_grid", UNSET)
        param_grid: MlSpecParamGrid | Unset
        if isinstance(_param_grid, Unset):
            param_grid = UNSET
        else:
            param_grid = MlSpecParamGrid.from_dict(_param_grid)

        cv = d.pop("cv", UNSET)

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

        _preprocess = d.pop("preprocess", UNSET)
        preprocess: Preprocess | Unset
        if isinstance(_preprocess, Unset):
            preprocess = UNSET
        else:
            preprocess = Preprocess.from_dict(_preprocess)

        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))

        def _parse_sample(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        sample = _parse_sample(d.pop("sample", UNSET))

        ml_spec = cls(
            task=task,
            estimator=estimator,
            target=target,
            features=features,
            test_size=test_size,
            seed=seed,
            params=params,
            param_grid=param_grid,
            cv=cv,
            scoring=scoring,
            preprocess=preprocess,
            model=model,
            sample=sample,
        )

        return ml_spec
