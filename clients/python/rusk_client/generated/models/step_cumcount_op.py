from enum import StrEnum


class StepCumcountOp(StrEnum):
    CUMCOUNT = "cumcount"

    def __str__(self) -> str:
        return str(self.value)
