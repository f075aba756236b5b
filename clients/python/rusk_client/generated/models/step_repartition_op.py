from enum import StrEnum


class StepRepartitionOp(StrEnum):
    REPARTITION = "repartition"

    def __str__(self) -> str:
        return str(self.value)
