from enum import StrEnum


class StepCumminOp(StrEnum):
    CUMMIN = "cummin"

    def __str__(self) -> str:
        return str(self.value)
