"""Contains all the data models used in inputs/outputs"""

from .agg_fn import AggFn
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
from .drop_how import DropHow
from .error_body import ErrorBody
from .error_code import ErrorCode
from .error_detail import ErrorDetail
from .estimator import Estimator
from .event_type import EventType
from .explain_response import ExplainResponse
from .file_compression import FileCompression
from .file_view import FileView
from .format_ import Format
from .get_result_format import GetResultFormat
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
from .node_metrics import NodeMetrics
from .output import Output
from .output_format import OutputFormat
from .preprocess import Preprocess
from .progress import Progress
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
from .step_describe import StepDescribe
from .step_describe_op import StepDescribeOp
from .step_drop import StepDrop
from .step_drop_duplicates import StepDropDuplicates
from .step_drop_duplicates_op import StepDropDuplicatesOp
from .step_drop_op import StepDropOp
from .step_dropna import StepDropna
from .step_dropna_op import StepDropnaOp
from .step_fillna import StepFillna
from .step_fillna_columns_type_0 import StepFillnaColumnsType0
from .step_fillna_op import StepFillnaOp
from .step_filter import StepFilter
from .step_filter_op import StepFilterOp
from .step_groupby import StepGroupby
from .step_groupby_agg import StepGroupbyAgg
from .step_groupby_op import StepGroupbyOp
from .step_head import StepHead
from .step_head_op import StepHeadOp
from .step_merge import StepMerge
from .step_merge_op import StepMergeOp
from .step_rename import StepRename
from .step_rename_columns import StepRenameColumns
from .step_rename_op import StepRenameOp
from .step_repartition import StepRepartition
from .step_repartition_op import StepRepartitionOp
from .step_sample import StepSample
from .step_sample_op import StepSampleOp
from .step_select import StepSelect
from .step_select_op import StepSelectOp
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
from .webhook import Webhook
from .worker_info import WorkerInfo
from .worker_list import WorkerList
from .worker_load import WorkerLoad
from .worker_view import WorkerView
from .write_mode import WriteMode

__all__ = (
    "AggFn",
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
    "DropHow",
    "DType",
    "ErrorBody",
    "ErrorCode",
    "ErrorDetail",
    "Estimator",
    "EventType",
    "ExplainResponse",
    "FileCompression",
    "FileView",
    "Format",
    "GetResultFormat",
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
    "NodeMetrics",
    "Output",
    "OutputFormat",
    "Preprocess",
    "Progress",
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
    "StepDescribe",
    "StepDescribeOp",
    "StepDrop",
    "StepDropDuplicates",
    "StepDropDuplicatesOp",
    "StepDropna",
    "StepDropnaOp",
    "StepDropOp",
    "StepFillna",
    "StepFillnaColumnsType0",
    "StepFillnaOp",
    "StepFilter",
    "StepFilterOp",
    "StepGroupby",
    "StepGroupbyAgg",
    "StepGroupbyOp",
    "StepHead",
    "StepHeadOp",
    "StepMerge",
    "StepMergeOp",
    "StepRename",
    "StepRenameColumns",
    "StepRenameOp",
    "StepRepartition",
    "StepRepartitionOp",
    "StepSample",
    "StepSampleOp",
    "StepSelect",
    "StepSelectOp",
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
    "Webhook",
    "WorkerInfo",
    "WorkerList",
    "WorkerLoad",
    "WorkerView",
    "WriteMode",
)
