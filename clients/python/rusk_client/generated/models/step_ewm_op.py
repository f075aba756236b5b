from enum import StrEnum


class StepEwmOp(StrEnum):
    EWM = "ewm"

    def __str__(self) -> str:
        return str(self.value)
