from enum import StrEnum


class RankMethod(StrEnum):
    AVERAGE = "average"
    DENSE = "dense"
    FIRST = "first"
    MAX = "max"
    MIN = "min"

    def __str__(self) -> str:
        return str(self.value)
