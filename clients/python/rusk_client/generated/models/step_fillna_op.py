from enum import StrEnum


class StepFillnaOp(StrEnum):
    FILLNA = "fillna"

    def __str__(self) -> str:
        return str(self.value)
