from enum import StrEnum


class StepDiffOp(StrEnum):
    DIFF = "diff"

    def __str__(self) -> str:
        return str(self.value)
