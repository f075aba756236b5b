from enum import StrEnum


class StepSelectOp(StrEnum):
    SELECT = "select"

    def __str__(self) -> str:
        return str(self.value)
