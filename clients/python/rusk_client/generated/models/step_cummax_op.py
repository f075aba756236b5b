from enum import StrEnum


class StepCummaxOp(StrEnum):
    CUMMAX = "cummax"

    def __str__(self) -> str:
        return str(self.value)
