from enum import StrEnum


class MlTask(StrEnum):
    FIT = "fit"
    GRID_SEARCH = "grid_search"
    PREDICT = "predict"

    def __str__(self) -> str:
        return str(self.value)
