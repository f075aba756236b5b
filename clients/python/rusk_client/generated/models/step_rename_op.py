from enum import StrEnum


class StepRenameOp(StrEnum):
    RENAME = "rename"

    def __str__(self) -> str:
        return str(self.value)
