from enum import StrEnum


class StepMergeAsofOp(StrEnum):
    MERGE_ASOF = "merge_asof"

    def __str__(self) -> str:
        return str(self.value)
