from enum import StrEnum


class MovingFn(StrEnum):
    COUNT = "count"
    MAX = "max"
    MEAN = "mean"
    MIN = "min"
    STD = "std"
    SUM = "sum"
    VAR = "var"

    def __str__(self) -> str:
        return str(self.value)
