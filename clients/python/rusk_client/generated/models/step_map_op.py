from enum import StrEnum


class StepMapOp(StrEnum):
    MAP = "map"

    def __str__(self) -> str:
        return str(self.value)
