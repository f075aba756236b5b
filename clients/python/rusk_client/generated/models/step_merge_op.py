from enum import StrEnum


class StepMergeOp(StrEnum):
    MERGE = "merge"

    def __str__(self) -> str:
        return str(self.value)
