"""Contains all the data models used in inputs/outputs"""

from .agg_fn import AggFn
from .asof_direction import AsofDirection
from .attempt import Attempt
from .attempt_outcome import AttemptOutcome
from .capabilities import Capabilities
from .column_schema import ColumnSchema
from .compression import Compression
from .csv_options import CsvOptions
from .csv_options_dtype import CsvOptionsDtype
from .d_type import DType
from .delivery import Delivery
from .delivery_attempt import DeliveryAttempt
from .delivery_page import DeliveryPage
from .delivery_state import DeliveryState
from .device_kind import DeviceKind
from .drop_how import DropHow
from .engine_kind import EngineKind
from .error_body import ErrorBody
from .error_code import ErrorCode
from .error_detail import ErrorDetail
from .estimator import Estimator
from .event_type import EventType
from .ewm_fn import EwmFn
from .explain_response import ExplainResponse
from .file_compression import FileCompression
from .file_view import FileView
from .format_ import Format
from .get_result_format import GetResultFormat
from .gpu_device import GpuDevice
from .health import Health
from .how import How
from .inspect_request import InspectRequest
from .inspect_response import InspectResponse
from .job_error import JobError
from .job_line import JobLine
from .job_page import JobPage
from .job_spec import JobSpec
from .job_spec_sources import JobSpecSources
from .job_state import JobState
from .job_view import JobView
from .links import Links
from .ml_spec import MlSpec
from .ml_spec_param_grid import MlSpecParamGrid
from .ml_spec_params import MlSpecParams
from .ml_summary import MlSummary
from .ml_summary_best_params_type_0 import MlSummaryBestParamsType0
from .ml_summary_metrics_type_0 import MlSummaryMetricsType0
from .ml_summary_params_type_0 import MlSummaryParamsType0
from .ml_task import MlTask
from .model_info import ModelInfo
from .model_info_metrics import ModelInfoMetrics
from .model_info_params import ModelInfoParams
from .model_list import ModelList
from .moving_fn import MovingFn
from .node_metrics import NodeMetrics
from .output import Output
from .output_format import OutputFormat
from .prefix_type_1 import PrefixType1
from .preprocess import Preprocess
from .progress import Progress
from .rank_method import RankMethod
from .resources import Resources
from .resources_gpu_type_1 import ResourcesGpuType1
from .result_view import ResultView
from .scoring import Scoring
from .snapshot import Snapshot
from .source import Source
from .step_assign import StepAssign
from .step_assign_columns import StepAssignColumns
from .step_assign_op import StepAssignOp
from .step_astype import StepAstype
from .step_astype_columns import StepAstypeColumns
from .step_astype_op import StepAstypeOp
from .step_concat import StepConcat
from .step_concat_op import StepConcatOp
from .step_cumcount import StepCumcount
from .step_cumcount_op import StepCumcountOp
from .step_cummax import StepCummax
from .step_cummax_op import StepCummaxOp
from .step_cummin import StepCummin
from .step_cummin_op import StepCumminOp
from .step_cumsum import StepCumsum
from .step_cumsum_op import StepCumsumOp
from .step_describe import StepDescribe
from .step_describe_op import StepDescribeOp
from .step_diff import StepDiff
from .step_diff_op import StepDiffOp
from .step_drop import StepDrop
from .step_drop_duplicates import StepDropDuplicates
from .step_drop_duplicates_op import StepDropDuplicatesOp
from .step_drop_op import StepDropOp
from .step_dropna import StepDropna
from .step_dropna_op import StepDropnaOp
from .step_ewm import StepEwm
from .step_ewm_op import StepEwmOp
from .step_explode import StepExplode
from .step_explode_op import StepExplodeOp
from .step_fillna import StepFillna
from .step_fillna_columns_type_0 import StepFillnaColumnsType0
from .step_fillna_op import StepFillnaOp
from .step_filter import StepFilter
from .step_filter_op import StepFilterOp
from .step_get_dummies import StepGetDummies
from .step_get_dummies_op import StepGetDummiesOp
from .step_groupby import StepGroupby
from .step_groupby_agg import StepGroupbyAgg
from .step_groupby_op import StepGroupbyOp
from .step_groupby_transform import StepGroupbyTransform
from .step_head import StepHead
from .step_head_op import StepHeadOp
from .step_map import StepMap
from .step_map_mapping import StepMapMapping
from .step_map_op import StepMapOp
from .step_melt import StepMelt
from .step_melt_op import StepMeltOp
from .step_merge import StepMerge
from .step_merge_asof import StepMergeAsof
from .step_merge_asof_op import StepMergeAsofOp
from .step_merge_op import StepMergeOp
from .step_nlargest import StepNlargest
from .step_nlargest_op import StepNlargestOp
from .step_nsmallest import StepNsmallest
from .step_nsmallest_op import StepNsmallestOp
from .step_pct_change import StepPctChange
from .step_pct_change_op import StepPctChangeOp
from .step_pivot_table import StepPivotTable
from .step_pivot_table_op import StepPivotTableOp
from .step_rank import StepRank
from .step_rank_op import StepRankOp
from .step_rename import StepRename
from .step_rename_columns import StepRenameColumns
from .step_rename_op import StepRenameOp
from .step_repartition import StepRepartition
from .step_repartition_op import StepRepartitionOp
from .step_resample import StepResample
from .step_resample_agg import StepResampleAgg
from .step_resample_op import StepResampleOp
from .step_rolling import StepRolling
from .step_rolling_op import StepRollingOp
from .step_sample import StepSample
from .step_sample_op import StepSampleOp
from .step_select import StepSelect
from .step_select_op import StepSelectOp
from .step_shift import StepShift
from .step_shift_op import StepShiftOp
from .step_sort import StepSort
from .step_sort_op import StepSortOp
from .step_value_counts import StepValueCounts
from .step_value_counts_op import StepValueCountsOp
from .task import Task
from .task_edge import TaskEdge
from .task_graph import TaskGraph
from .task_node import TaskNode
from .task_page import TaskPage
from .task_span import TaskSpan
from .waiting import Waiting
from .webhook import Webhook
from .worker_info import WorkerInfo
from .worker_list import WorkerList
from .worker_load import WorkerLoad
from .worker_view import WorkerView
from .write_mode import WriteMode

__all__ = (
    "AggFn",
    "AsofDirection",
    "Attempt",
    "AttemptOutcome",
    "Capabilities",
    "ColumnSchema",
    "Compression",
    "CsvOptions",
    "CsvOptionsDtype",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryPage",
    "DeliveryState",
    "DeviceKind",
    "DropHow",
    "DType",
    "EngineKind",
    "ErrorBody",
    "ErrorCode",
    "ErrorDetail",
    "Estimator",
    "EventType",
    "EwmFn",
    "ExplainResponse",
    "FileCompression",
    "FileView",
    "Format",
    "GetResultFormat",
    "GpuDevice",
    "Health",
    "How",
    "InspectRequest",
    "InspectResponse",
    "JobError",
    "JobLine",
    "JobPage",
    "JobSpec",
    "JobSpecSources",
    "JobState",
    "JobView",
    "Links",
    "MlSpec",
    "MlSpecParamGrid",
    "MlSpecParams",
    "MlSummary",
    "MlSummaryBestParamsType0",
    "MlSummaryMetricsType0",
    "MlSummaryParamsType0",
    "MlTask",
    "ModelInfo",
    "ModelInfoMetrics",
    "ModelInfoParams",
    "ModelList",
    "MovingFn",
    "NodeMetrics",
    "Output",
    "OutputFormat",
    "PrefixType1",
    "Preprocess",
    "Progress",
    "RankMethod",
    "Resources",
    "ResourcesGpuType1",
    "ResultView",
    "Scoring",
    "Snapshot",
    "Source",
    "StepAssign",
    "StepAssignColumns",
    "StepAssignOp",
    "StepAstype",
    "StepAstypeColumns",
    "StepAstypeOp",
    "StepConcat",
    "StepConcatOp",
    "StepCumcount",
    "StepCumcountOp",
    "StepCummax",
    "StepCummaxOp",
    "StepCummin",
    "StepCumminOp",
    "StepCumsum",
    "StepCumsumOp",
    "StepDescribe",
    "StepDescribeOp",
    "StepDiff",
    "StepDiffOp",
    "StepDrop",
    "StepDropDuplicates",
    "StepDropDuplicatesOp",
    "StepDropna",
    "StepDropnaOp",
    "StepDropOp",
    "StepEwm",
    "StepEwmOp",
    "StepExplode",
    "StepExplodeOp",
    "StepFillna",
    "StepFillnaColumnsType0",
    "StepFillnaOp",
    "StepFilter",
    "StepFilterOp",
    "StepGetDummies",
    "StepGetDummiesOp",
    "StepGroupby",
    "StepGroupbyAgg",
    "StepGroupbyOp",
    "StepGroupbyTransform",
    "StepHead",
    "StepHeadOp",
    "StepMap",
    "StepMapMapping",
    "StepMapOp",
    "StepMelt",
    "StepMeltOp",
    "StepMerge",
    "StepMergeAsof",
    "StepMergeAsofOp",
    "StepMergeOp",
    "StepNlargest",
    "StepNlargestOp",
    "StepNsmallest",
    "StepNsmallestOp",
    "StepPctChange",
    "StepPctChangeOp",
    "StepPivotTable",
    "StepPivotTableOp",
    "StepRank",
    "StepRankOp",
    "StepRename",
    "StepRenameColumns",
    "StepRenameOp",
    "StepRepartition",
    "StepRepartitionOp",
    "StepResample",
    "StepResampleAgg",
    "StepResampleOp",
    "StepRolling",
    "StepRollingOp",
    "StepSample",
    "StepSampleOp",
    "StepSelect",
    "StepSelectOp",
    "StepShift",
    "StepShiftOp",
    "StepSort",
    "StepSortOp",
    "StepValueCounts",
    "StepValueCountsOp",
    "Task",
    "TaskEdge",
    "TaskGraph",
    "TaskNode",
    "TaskPage",
    "TaskSpan",
    "Waiting",
    "Webhook",
    "WorkerInfo",
    "WorkerList",
    "WorkerLoad",
    "WorkerView",
    "WriteMode",
)
