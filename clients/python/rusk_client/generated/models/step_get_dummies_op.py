from enum import StrEnum


class StepGetDummiesOp(StrEnum):
    GET_DUMMIES = "get_dummies"

    def __str__(self) -> str:
        return str(self.value)
