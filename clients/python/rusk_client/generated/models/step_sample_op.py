from enum import StrEnum


class StepSampleOp(StrEnum):
    SAMPLE = "sample"

    def __str__(self) -> str:
        return str(self.value)
