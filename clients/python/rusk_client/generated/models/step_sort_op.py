from enum import StrEnum


class StepSortOp(StrEnum):
    SORT = "sort"

    def __str__(self) -> str:
        return str(self.value)
