from enum import StrEnum


class StepConcatOp(StrEnum):
    CONCAT = "concat"

    def __str__(self) -> str:
        return str(self.value)
