from enum import StrEnum


class StepPivotTableOp(StrEnum):
    PIVOT_TABLE = "pivot_table"

    def __str__(self) -> str:
        return str(self.value)
