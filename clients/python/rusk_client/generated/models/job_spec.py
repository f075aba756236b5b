from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.engine_kind import EngineKind
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.job_spec_sources import JobSpecSources
    from ..models.ml_spec import MlSpec
    from ..models.output import Output
    from ..models.resources import Resources
    from ..models.step_assign import StepAssign
    from ..models.step_astype import StepAstype
    from ..models.step_concat import StepConcat
    from ..models.step_cumcount import StepCumcount
    from ..models.step_cummax import StepCummax
    from ..models.step_cummin import StepCummin
    from ..models.step_cumsum import StepCumsum
    from ..models.step_describe import StepDescribe
    from ..models.step_diff import StepDiff
    from ..models.step_drop import StepDrop
    from ..models.step_drop_duplicates import StepDropDuplicates
    from ..models.step_dropna import StepDropna
    from ..models.step_ewm import StepEwm
    from ..models.step_explode import StepExplode
    from ..models.step_fillna import StepFillna
    from ..models.step_filter import StepFilter
    from ..models.step_get_dummies import StepGetDummies
    from ..models.step_groupby import StepGroupby
    from ..models.step_head import StepHead
    from ..models.step_map import StepMap
    from ..models.step_melt import StepMelt
    from ..models.step_merge import StepMerge
    from ..models.step_merge_asof import StepMergeAsof
    from ..models.step_nlargest import StepNlargest
    from ..models.step_nsmallest import StepNsmallest
    from ..models.step_pct_change import StepPctChange
    from ..models.step_pivot_table import StepPivotTable
    from ..models.step_rank import StepRank
    from ..models.step_rename import StepRename
    from ..models.step_repartition import StepRepartition
    from ..models.step_resample import StepResample
    from ..models.step_rolling import StepRolling
    from ..models.step_sample import StepSample
    from ..models.step_select import StepSelect
    from ..models.step_shift import StepShift
    from ..models.step_sort import StepSort
    from ..models.step_value_counts import StepValueCounts
    from ..models.webhook import Webhook


T = TypeVar("T", bound="JobSpec")


@_attrs_define
class JobSpec:
    """A job: a pipeline over named sources that produces one dataframe.

    Example:
        {'name': 'user-metrics', 'output': {'format': 'parquet'}, 'sources': {'logs': {'format': 'csv', 'path':
            'data/large-data-*.csv'}}, 'steps': [{'expr': "status = 'active'", 'op': 'filter'}, {'columns': {'total_spend':
            'subscription_cost + add_on_cost'}, 'op': 'assign'}, {'agg': {'click_count': 'max', 'session_duration': 'mean',
            'total_spend': 'sum'}, 'by': ['user_id'], 'op': 'groupby'}]}

    Attributes:
        sources (JobSpecSources): Source name → where and how to read it. Names are identifiers usable in `sql`,
            case-sensitive like columns.
        name (None | str | Unset): A label for people; not unique.
        input_ (None | str | Unset): The source that `steps` start from; may be left out when there is one source.
        steps (list[StepAssign | StepAstype | StepConcat | StepCumcount | StepCummax | StepCummin | StepCumsum |
            StepDescribe | StepDiff | StepDrop | StepDropDuplicates | StepDropna | StepEwm | StepExplode | StepFillna |
            StepFilter | StepGetDummies | StepGroupby | StepHead | StepMap | StepMelt | StepMerge | StepMergeAsof |
            StepNlargest | StepNsmallest | StepPctChange | StepPivotTable | StepRank | StepRename | StepRepartition |
            StepResample | StepRolling | StepSample | StepSelect | StepShift | StepSort | StepValueCounts] | None | Unset):
            Pandas-style steps applied in order to `input`. Exactly one of `steps` and `sql`.
        sql (None | str | Unset): One `SELECT` over the source names. Exactly one of `steps` and `sql`.
        output (Output | Unset): How the result is written.
        timeout_s (int | None | Unset): Seconds an attempt may run before the job fails with code `timeout`.
        max_result_bytes (None | str | Unset): The most bytes the result may have, e.g. `"1GB"` (at most the server's
            `RUSK_MAX_RESULT_BYTES`); the job fails with `result_too_large` beyond it. Example: 1GB.
        result_ttl_s (int | None | Unset): Seconds the result's files are kept after the job ends (at most the server's
            `RUSK_RESULT_TTL`, its default); then they are deleted and downloads answer 410.
            Files written to an `output.path` are the caller's and are kept.
        max_attempts (int | Unset): Attempts before a job whose worker keeps disappearing is failed (1–100). Default: 3.
        priority (int | Unset): Higher runs first.
        ml (MlSpec | None | Unset):
        webhook (None | Unset | Webhook):
        engine (EngineKind | None | Unset):
        resources (Resources | Unset): What the job needs of the worker that claims it.
    """

    sources: JobSpecSources
    name: None | str | Unset = UNSET
    input_: None | str | Unset = UNSET
    steps: (
        list[
            StepAssign
            | StepAstype
            | StepConcat
            | StepCumcount
            | StepCummax
            | StepCummin
            | StepCumsum
            | StepDescribe
            | StepDiff
            | StepDrop
            | StepDropDuplicates
            | StepDropna
            | StepEwm
            | StepExplode
            | StepFillna
            | StepFilter
            | StepGetDummies
            | StepGroupby
            | StepHead
            | StepMap
            | StepMelt
            | StepMerge
            | StepMergeAsof
            | StepNlargest
            | StepNsmallest
            | StepPctChange
            | StepPivotTable
            | StepRank
            | StepRename
            | StepRepartition
            | StepResample
            | StepRolling
            | StepSample
            | StepSelect
            | StepShift
            | StepSort
            | StepValueCounts
        ]
        | None
        | Unset
    ) = UNSET
    sql: None | str | Unset = UNSET
    output: Output | Unset = UNSET
    timeout_s: int | None | Unset = UNSET
    max_result_bytes: None | str | Unset = UNSET
    result_ttl_s: int | None | Unset = UNSET
    max_attempts: int | Unset = 3
    priority: int | Unset = UNSET
    ml: MlSpec | None | Unset = UNSET
    webhook: None | Unset | Webhook = UNSET
    engine: EngineKind | None | Unset = UNSET
    resources: Resources | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.ml_spec import MlSpec  # noqa: PLC0415
        from ..models.step_assign import StepAssign  # noqa: PLC0415
        from ..models.step_astype import StepAstype  # noqa: PLC0415
        from ..models.step_concat import StepConcat  # noqa: PLC0415
        from ..models.step_cumcount import StepCumcount  # noqa: PLC0415
        from ..models.step_cummax import StepCummax  # noqa: PLC0415
        from ..models.step_cummin import StepCummin  # noqa: PLC0415
        from ..models.step_cumsum import StepCumsum  # noqa: PLC0415
        from ..models.step_describe import StepDescribe  # noqa: PLC0415
        from ..models.step_diff import StepDiff  # noqa: PLC0415
        from ..models.step_drop import StepDrop  # noqa: PLC0415
        from ..models.step_drop_duplicates import StepDropDuplicates  # noqa: PLC0415
        from ..models.step_dropna import StepDropna  # noqa: PLC0415
        from ..models.step_ewm import StepEwm  # noqa: PLC0415
        from ..models.step_explode import StepExplode  # noqa: PLC0415
        from ..models.step_fillna import StepFillna  # noqa: PLC0415
        from ..models.step_filter import StepFilter  # noqa: PLC0415
        from ..models.step_get_dummies import StepGetDummies  # noqa: PLC0415
        from ..models.step_groupby import StepGroupby  # noqa: PLC0415
        from ..models.step_head import StepHead  # noqa: PLC0415
        from ..models.step_map import StepMap  # noqa: PLC0415
        from ..models.step_melt import StepMelt  # noqa: PLC0415
        from ..models.step_merge_asof import StepMergeAsof  # noqa: PLC0415
        from ..models.step_nlargest import StepNlargest  # noqa: PLC0415
        from ..models.step_nsmallest import StepNsmallest  # noqa: PLC0415
        from ..models.step_pct_change import StepPctChange  # noqa: PLC0415
        from ..models.step_pivot_table import StepPivotTable  # noqa: PLC0415
        from ..models.step_rank import StepRank  # noqa: PLC0415
        from ..models.step_rename import StepRename  # noqa: PLC0415
        from ..models.step_repartition import StepRepartition  # noqa: PLC0415
        from ..models.step_resample import StepResample  # noqa: PLC0415
        from ..models.step_rolling import StepRolling  # noqa: PLC0415
        from ..models.step_sample import StepSample  # noqa: PLC0415
        from ..models.step_select import StepSelect  # noqa: PLC0415
        from ..models.step_shift import StepShift  # noqa: PLC0415
        from ..models.step_sort import StepSort  # noqa: PLC0415
        from ..models.step_value_counts import StepValueCounts  # noqa: PLC0415
        from ..models.webhook import Webhook  # noqa: PLC0415

        sources = self.sources.to_dict()

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        input_: None | str | Unset
        if isinstance(self.input_, Unset):
            input_ = UNSET
        else:
            input_ = self.input_

        steps: list[dict[str, Any]] | None | Unset
        if isinstance(self.steps, Unset):
            steps = UNSET
        elif isinstance(self.steps, list):
            steps = []
            for steps_type_0_item_data in self.steps:
                steps_type_0_item: dict[str, Any]
                if isinstance(steps_type_0_item_data, StepFilter):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepAssign):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepSelect):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepDrop):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepRename):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepGroupby):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepSort):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepHead):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepAstype):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepFillna):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepDropna):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepDropDuplicates):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepConcat):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepValueCounts):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepDescribe):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepSample):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepRepartition):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepShift):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepDiff):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepPctChange):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepCumsum):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepCummax):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepCummin):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepCumcount):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepRank):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepNlargest):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepNsmallest):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepRolling):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepResample):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepExplode):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepMap):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepMelt):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepEwm):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepPivotTable):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepGetDummies):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                elif isinstance(steps_type_0_item_data, StepMergeAsof):
                    steps_type_0_item = steps_type_0_item_data.to_dict()
                else:
                    steps_type_0_item = steps_type_0_item_data.to_dict()

                steps.append(steps_type_0_item)

        else:
            steps = self.steps

        sql: None | str | Unset
        if isinstance(self.sql, Unset):
            sql = UNSET
        else:
            sql = self.sql

        output: dict[str, Any] | Unset = UNSET
        if not isinstance(self.output, Unset):
            output = self.output.to_dict()

        timeout_s: int | None | Unset
        if isinstance(self.timeout_s, Unset):
            timeout_s = UNSET
        else:
            timeout_s = self.timeout_s

        max_result_bytes: None | str | Unset
        if isinstance(self.max_result_bytes, Unset):
            max_result_bytes = UNSET
        else:
            max_result_bytes = self.max_result_bytes

        result_ttl_s: int | None | Unset
        if isinstance(self.result_ttl_s, Unset):
            result_ttl_s = UNSET
        else:
            result_ttl_s = self.result_ttl_s

        max_attempts = self.max_attempts

        priority = self.priority

        ml: dict[str, Any] | None | Unset
        if isinstance(self.ml, Unset):
            ml = UNSET
        elif isinstance(self.ml, MlSpec):
            ml = self.ml.to_dict()
        else:
            ml = self.ml

        webhook: dict[str, Any] | None | Unset
        if isinstance(self.webhook, Unset):
            webhook = UNSET
        elif isinstance(self.webhook, Webhook):
            webhook = self.webhook.to_dict()
        else:
            webhook = self.webhook

        engine: None | str | Unset
        if isinstance(self.engine, Unset):
            engine = UNSET
        elif isinstance(self.engine, EngineKind):
            engine = self.engine.value
        else:
            engine = self.engine

        resources: dict[str, Any] | Unset = UNSET
        if not isinstance(self.resources, Unset):
            resources = self.resources.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "sources": sources,
            }
        )
        if name is not UNSET:
            field_dict["name"] = name
        if input_ is not UNSET:
            field_dict["input"] = input_
        if steps is not UNSET:
            field_dict["steps"] = steps
        if sql is not UNSET:
            field_dict["sql"] = sql
        if output is not UNSET:
            field_dict["output"] = output
        if timeout_s is not UNSET:
            field_dict["timeout_s"] = timeout_s
        if max_result_bytes is not UNSET:
            field_dict["max_result_bytes"] = max_result_bytes
        if result_ttl_s is not UNSET:
            field_dict["result_ttl_s"] = result_ttl_s
        if max_attempts is not UNSET:
            field_dict["max_attempts"] = max_attempts
        if priority is not UNSET:
            field_dict["priority"] = priority
        if ml is not UNSET:
            field_dict["ml"] = ml
        if webhook is not UNSET:
            field_dict["webhook"] = webhook
        if engine is not UNSET:
            field_dict["engine"] = engine
        if resources is not UNSET:
            field_dict["resources"] = resources

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_spec_sources import JobSpecSources  # noqa: PLC0415
        from ..models.ml_spec import MlSpec  # noqa: PLC0415
        from ..models.output import Output  # noqa: PLC0415
        from ..models.resources import Resources  # noqa: PLC0415
        from ..models.step_assign import StepAssign  # noqa: PLC0415
        from ..models.step_astype import StepAstype  # noqa: PLC0415
        from ..models.step_concat import StepConcat  # noqa: PLC0415
        from ..models.step_cumcount import StepCumcount  # noqa: PLC0415
        from ..models.step_cummax import StepCummax  # noqa: PLC0415
        from ..models.step_cummin import StepCummin  # noqa: PLC0415
        from ..models.step_cumsum import StepCumsum  # noqa: PLC0415
        from ..models.step_describe import StepDescribe  # noqa: PLC0415
        from ..models.step_diff import StepDiff  # noqa: PLC0415
        from ..models.step_drop import StepDrop  # noqa: PLC0415
        from ..models.step_drop_duplicates import StepDropDuplicates  # noqa: PLC0415
        from ..models.step_dropna import StepDropna  # noqa: PLC0415
        from ..models.step_ewm import StepEwm  # noqa: PLC0415
        from ..models.step_explode import StepExplode  # noqa: PLC0415
        from ..models.step_fillna import StepFillna  # noqa: PLC0415
        from ..models.step_filter import StepFilter  # noqa: PLC0415
        from ..models.step_get_dummies import StepGetDummies  # noqa: PLC0415
        from ..models.step_groupby import StepGroupby  # noqa: PLC0415
        from ..models.step_head import StepHead  # noqa: PLC0415
        from ..models.step_map import StepMap  # noqa: PLC0415
        from ..models.step_melt import StepMelt  # noqa: PLC0415
        from ..models.step_merge import StepMerge  # noqa: PLC0415
        from ..models.step_merge_asof import StepMergeAsof  # noqa: PLC0415
        from ..models.step_nlargest import StepNlargest  # noqa: PLC0415
        from ..models.step_nsmallest import StepNsmallest  # noqa: PLC0415
        from ..models.step_pct_change import StepPctChange  # noqa: PLC0415
        from ..models.step_pivot_table import StepPivotTable  # noqa: PLC0415
        from ..models.step_rank import StepRank  # noqa: PLC0415
        from ..models.step_rename import StepRename  # noqa: PLC0415
        from ..models.step_repartition import StepRepartition  # noqa: PLC0415
        from ..models.step_resample import StepResample  # noqa: PLC0415
        from ..models.step_rolling import StepRolling  # noqa: PLC0415
        from ..models.step_sample import StepSample  # noqa: PLC0415
        from ..models.step_select import StepSelect  # noqa: PLC0415
        from ..models.step_shift import StepShift  # noqa: PLC0415
        from ..models.step_sort import StepSort  # noqa: PLC0415
        from ..models.step_value_counts import StepValueCounts  # noqa: PLC0415
        from ..models.webhook import Webhook  # noqa: PLC0415

        d = dict(src_dict)
        sources = JobSpecSources.from_dict(d.pop("sources"))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_input_(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        input_ = _parse_input_(d.pop("input", UNSET))

        def _parse_steps(
            data: object,
        ) -> (
            list[
                StepAssign
                | StepAstype
                | StepConcat
                | StepCumcount
                | StepCummax
                | StepCummin
                | StepCumsum
                | StepDescribe
                | StepDiff
                | StepDrop
                | StepDropDuplicates
                | StepDropna
                | StepEwm
                | StepExplode
                | StepFillna
                | StepFilter
                | StepGetDummies
                | StepGroupby
                | StepHead
                | StepMap
                | StepMelt
                | StepMerge
                | StepMergeAsof
                | StepNlargest
                | StepNsmallest
                | StepPctChange
                | StepPivotTable
                | StepRank
                | StepRename
                | StepRepartition
                | StepResample
                | StepRolling
                | StepSample
                | StepSelect
                | StepShift
                | StepSort
                | StepValueCounts
            ]
            | None
            | Unset
        ):
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                steps_type_0 = []
                _steps_type_0 = data
                for steps_type_0_item_data in _steps_type_0:

                    def _parse_steps_type_0_item(
                        data: object,
                    ) -> (
                        StepAssign
                        | StepAstype
                        | StepConcat
                        | StepCumcount
                        | StepCummax
                        | StepCummin
                        | StepCumsum
                        | StepDescribe
                        | StepDiff
                        | StepDrop
                        | StepDropDuplicates
                        | StepDropna
                        | StepEwm
                        | StepExplode
                        | StepFillna
                        | StepFilter
                        | StepGetDummies
                        | StepGroupby
                        | StepHead
                        | StepMap
                        | StepMelt
                        | StepMerge
                        | StepMergeAsof
                        | StepNlargest
                        | StepNsmallest
                        | StepPctChange
                        | StepPivotTable
                        | StepRank
                        | StepRename
                        | StepRepartition
                        | StepResample
                        | StepRolling
                        | StepSample
                        | StepSelect
                        | StepShift
                        | StepSort
                        | StepValueCounts
                    ):
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_0 = StepFilter.from_dict(data)

                            return componentsschemas_step_type_0
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_1 = StepAssign.from_dict(data)

                            return componentsschemas_step_type_1
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_2 = StepSelect.from_dict(data)

                            return componentsschemas_step_type_2
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_3 = StepDrop.from_dict(data)

                            return componentsschemas_step_type_3
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_4 = StepRename.from_dict(data)

                            return componentsschemas_step_type_4
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_5 = StepGroupby.from_dict(data)

                            return componentsschemas_step_type_5
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_6 = StepSort.from_dict(data)

                            return componentsschemas_step_type_6
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_7 = StepHead.from_dict(data)

                            return componentsschemas_step_type_7
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_8 = StepAstype.from_dict(data)

                            return componentsschemas_step_type_8
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_9 = StepFillna.from_dict(data)

                            return componentsschemas_step_type_9
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_10 = StepDropna.from_dict(data)

                            return componentsschemas_step_type_10
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_11 = StepDropDuplicates.from_dict(data)

                            return componentsschemas_step_type_11
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_12 = StepConcat.from_dict(data)

                            return componentsschemas_step_type_12
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_13 = StepValueCounts.from_dict(data)

                            return componentsschemas_step_type_13
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_14 = StepDescribe.from_dict(data)

                            return componentsschemas_step_type_14
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_15 = StepSample.from_dict(data)

                            return componentsschemas_step_type_15
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_16 = StepRepartition.from_dict(data)

                            return componentsschemas_step_type_16
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_17 = StepShift.from_dict(data)

                            return componentsschemas_step_type_17
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_18 = StepDiff.from_dict(data)

                            return componentsschemas_step_type_18
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_19 = StepPctChange.from_dict(data)

                            return componentsschemas_step_type_19
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_20 = StepCumsum.from_dict(data)

                            return componentsschemas_step_type_20
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_21 = StepCummax.from_dict(data)

                            return componentsschemas_step_type_21
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_22 = StepCummin.from_dict(data)

                            return componentsschemas_step_type_22
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_23 = StepCumcount.from_dict(data)

                            return componentsschemas_step_type_23
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_24 = StepRank.from_dict(data)

                            return componentsschemas_step_type_24
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_25 = StepNlargest.from_dict(data)

                            return componentsschemas_step_type_25
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_26 = StepNsmallest.from_dict(data)

                            return componentsschemas_step_type_26
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_27 = StepRolling.from_dict(data)

                            return componentsschemas_step_type_27
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_28 = StepResample.from_dict(data)

                            return componentsschemas_step_type_28
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_29 = StepExplode.from_dict(data)

                            return componentsschemas_step_type_29
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_30 = StepMap.from_dict(data)

                            return componentsschemas_step_type_30
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_31 = StepMelt.from_dict(data)

                            return componentsschemas_step_type_31
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_32 = StepEwm.from_dict(data)

                            return componentsschemas_step_type_32
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_33 = StepPivotTable.from_dict(data)

                            return componentsschemas_step_type_33
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_34 = StepGetDummies.from_dict(data)

                            return componentsschemas_step_type_34
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            componentsschemas_step_type_35 = StepMergeAsof.from_dict(data)

                            return componentsschemas_step_type_35
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_step_type_36 = StepMerge.from_dict(data)

                        return componentsschemas_step_type_36

                    steps_type_0_item = _parse_steps_type_0_item(steps_type_0_item_data)

                    steps_type_0.append(steps_type_0_item)

                return steps_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                list[
                    StepAssign
                    | StepAstype
                    | StepConcat
                    | StepCumcount
                    | StepCummax
                    | StepCummin
                    | StepCumsum
                    | StepDescribe
                    | StepDiff
                    | StepDrop
                    | StepDropDuplicates
                    | StepDropna
                    | StepEwm
                    | StepExplode
                    | StepFillna
                    | StepFilter
                    | StepGetDummies
                    | StepGroupby
                    | StepHead
                    | StepMap
                    | StepMelt
                    | StepMerge
                    | StepMergeAsof
                    | StepNlargest
                    | StepNsmallest
                    | StepPctChange
                    | StepPivotTable
                    | StepRank
                    | StepRename
                    | StepRepartition
                    | StepResample
                    | StepRolling
                    | StepSample
                    | StepSelect
                    | StepShift
                    | StepSort
                    | StepValueCounts
                ]
                | None
                | Unset,
                data,
            )

        steps = _parse_steps(d.pop("steps", UNSET))

        def _parse_sql(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        sql = _parse_sql(d.pop("sql", UNSET))

        _output = d.pop("output", UNSET)
        output: Output | Unset
        if isinstance(_output, Unset):
            output = UNSET
        else:
            output = Output.from_dict(_output)

        def _parse_timeout_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        timeout_s = _parse_timeout_s(d.pop("timeout_s", UNSET))

        def _parse_max_result_bytes(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        max_result_bytes = _parse_max_result_bytes(d.pop("max_result_bytes", UNSET))

        def _parse_result_ttl_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        result_ttl_s = _parse_result_ttl_s(d.pop("result_ttl_s", UNSET))

        max_attempts = d.pop("max_attempts", UNSET)

        priority = d.pop("priority", UNSET)

        def _parse_ml(data: object) -> MlSpec | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                ml_type_0 = MlSpec.from_dict(data)

                return ml_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MlSpec | None | Unset, data)

        ml = _parse_ml(d.pop("ml", UNSET))

        def _parse_webhook(data: object) -> None | Unset | Webhook:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                webhook_type_0 = Webhook.from_dict(data)

                return webhook_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | Webhook, data)

        webhook = _parse_webhook(d.pop("webhook", UNSET))

        def _parse_engine(data: object) -> EngineKind | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                engine_type_0 = EngineKind(data)

                return engine_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EngineKind | None | Unset, data)

        engine = _parse_engine(d.pop("engine", UNSET))

        _resources = d.pop("resources", UNSET)
        resources: Resources | Unset
        if isinstance(_resources, Unset):
            resources = UNSET
        else:
            resources = Resources.from_dict(_resources)

        job_spec = cls(
            sources=sources,
            name=name,
            input_=input_,
            steps=steps,
            sql=sql,
            output=output,
            timeout_s=timeout_s,
            max_result_bytes=max_result_bytes,
            result_ttl_s=result_ttl_s,
            max_attempts=max_attempts,
            priority=priority,
            ml=ml,
            webhook=webhook,
            engine=engine,
            resources=resources,
        )

        return job_spec
