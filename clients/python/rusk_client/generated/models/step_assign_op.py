from enum import StrEnum


class StepAssignOp(StrEnum):
    ASSIGN = "assign"

    def __str__(self) -> str:
        return str(self.value)
