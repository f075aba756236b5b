from enum import StrEnum


class Waiting(StrEnum):
    GPU_WORKER = "gpu_worker"

    def __str__(self) -> str:
        return str(self.value)
