from enum import StrEnum


class AsofDirection(StrEnum):
    BACKWARD = "backward"
    FORWARD = "forward"
    NEAREST = "nearest"

    def __str__(self) -> str:
        return str(self.value)
