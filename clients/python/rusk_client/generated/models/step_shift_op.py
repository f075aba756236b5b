from enum import StrEnum


class StepShiftOp(StrEnum):
    SHIFT = "shift"

    def __str__(self) -> str:
        return str(self.value)
