from enum import StrEnum


class StepDropOp(StrEnum):
    DROP = "drop"

    def __str__(self) -> str:
        return str(self.value)
