from enum import StrEnum


class ErrorCode(StrEnum):
    DATA_ERROR = "data_error"
    INTERNAL = "internal"
    INVALID_SPEC = "invalid_spec"
    IO_ERROR = "io_error"
    LEASE_EXPIRED = "lease_expired"
    ML_ERROR = "ml_error"
    RESOURCES_EXHAUSTED = "resources_exhausted"
    RESULT_TOO_LARGE = "result_too_large"
    TIMEOUT = "timeout"
    WORKER_SHUTDOWN = "worker_shutdown"

    def __str__(self) -> str:
        return str(self.value)
