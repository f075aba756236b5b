from enum import StrEnum


class StepResampleOp(StrEnum):
    RESAMPLE = "resample"

    def __str__(self) -> str:
        return str(self.value)
