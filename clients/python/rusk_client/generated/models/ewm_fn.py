from enum import StrEnum


class EwmFn(StrEnum):
    MEAN = "mean"

    def __str__(self) -> str:
        return str(self.value)
