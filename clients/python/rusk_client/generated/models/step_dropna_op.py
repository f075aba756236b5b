from enum import StrEnum


class StepDropnaOp(StrEnum):
    DROPNA = "dropna"

    def __str__(self) -> str:
        return str(self.value)
