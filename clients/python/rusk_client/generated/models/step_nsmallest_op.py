from enum import StrEnum


class StepNsmallestOp(StrEnum):
    NSMALLEST = "nsmallest"

    def __str__(self) -> str:
        return str(self.value)
