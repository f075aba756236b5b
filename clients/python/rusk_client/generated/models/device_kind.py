from enum import StrEnum


class DeviceKind(StrEnum):
    CUDA = "cuda"
    TEST_STUB = "test_stub"

    def __str__(self) -> str:
        return str(self.value)
