from enum import StrEnum


class StepExplodeOp(StrEnum):
    EXPLODE = "explode"

    def __str__(self) -> str:
        return str(self.value)
