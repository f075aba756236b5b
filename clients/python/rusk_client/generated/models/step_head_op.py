from enum import StrEnum


class StepHeadOp(StrEnum):
    HEAD = "head"

    def __str__(self) -> str:
        return str(self.value)
