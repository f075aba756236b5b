from enum import StrEnum


class StepRankOp(StrEnum):
    RANK = "rank"

    def __str__(self) -> str:
        return str(self.value)
