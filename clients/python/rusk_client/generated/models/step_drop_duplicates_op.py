from enum import StrEnum


class StepDropDuplicatesOp(StrEnum):
    DROP_DUPLICATES = "drop_duplicates"

    def __str__(self) -> str:
        return str(self.value)
