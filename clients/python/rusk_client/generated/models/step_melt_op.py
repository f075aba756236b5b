from enum import StrEnum


class StepMeltOp(StrEnum):
    MELT = "melt"

    def __str__(self) -> str:
        return str(self.value)
