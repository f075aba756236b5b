from enum import StrEnum


class ResourcesGpuType1(StrEnum):
    PREFER = "prefer"

    def __str__(self) -> str:
        return str(self.value)
