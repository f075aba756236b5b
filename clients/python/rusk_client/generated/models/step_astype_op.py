from enum import StrEnum


class StepAstypeOp(StrEnum):
    ASTYPE = "astype"

    def __str__(self) -> str:
        return str(self.value)
