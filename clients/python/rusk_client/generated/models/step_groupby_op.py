from enum import StrEnum


class StepGroupbyOp(StrEnum):
    GROUPBY = "groupby"

    def __str__(self) -> str:
        return str(self.value)
