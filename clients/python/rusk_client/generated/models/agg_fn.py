from enum import StrEnum


class AggFn(StrEnum):
    COUNT = "count"
    FIRST = "first"
    LAST = "last"
    MAX = "max"
    MEAN = "mean"
    MEDIAN = "median"
    MIN = "min"
    NUNIQUE = "nunique"
    SIZE = "size"
    STD = "std"
    SUM = "sum"
    VAR = "var"

    def __str__(self) -> str:
        return str(self.value)
