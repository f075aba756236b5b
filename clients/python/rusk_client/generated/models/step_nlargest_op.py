from enum import StrEnum


class StepNlargestOp(StrEnum):
    NLARGEST = "nlargest"

    def __str__(self) -> str:
        return str(self.value)
