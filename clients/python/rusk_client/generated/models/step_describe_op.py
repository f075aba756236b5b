from enum import StrEnum


class StepDescribeOp(StrEnum):
    DESCRIBE = "describe"

    def __str__(self) -> str:
        return str(self.value)
