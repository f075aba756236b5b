from enum import StrEnum


class How(StrEnum):
    INNER = "inner"
    LEFT = "left"
    OUTER = "outer"
    RIGHT = "right"

    def __str__(self) -> str:
        return str(self.value)
