from enum import StrEnum


class EngineKind(StrEnum):
    BALLISTA = "ballista"
    LOCAL = "local"

    def __str__(self) -> str:
        return str(self.value)
