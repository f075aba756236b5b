from enum import StrEnum


class StepPctChangeOp(StrEnum):
    PCT_CHANGE = "pct_change"

    def __str__(self) -> str:
        return str(self.value)
