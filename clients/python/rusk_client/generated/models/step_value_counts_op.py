from enum import StrEnum


class StepValueCountsOp(StrEnum):
    VALUE_COUNTS = "value_counts"

    def __str__(self) -> str:
        return str(self.value)
