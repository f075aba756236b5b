from enum import StrEnum


class StepRollingOp(StrEnum):
    ROLLING = "rolling"

    def __str__(self) -> str:
        return str(self.value)
