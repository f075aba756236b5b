from enum import StrEnum


class StepCumsumOp(StrEnum):
    CUMSUM = "cumsum"

    def __str__(self) -> str:
        return str(self.value)
