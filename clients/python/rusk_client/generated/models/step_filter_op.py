from enum import StrEnum


class StepFilterOp(StrEnum):
    FILTER = "filter"

    def __str__(self) -> str:
        return str(self.value)
