from enum import StrEnum


class AttemptOutcome(StrEnum):
    CANCELLED = "cancelled"
    FAILED = "failed"
    LEASE_EXPIRED = "lease_expired"
    RETRY = "retry"
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)
