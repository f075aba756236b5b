from enum import StrEnum


class Compression(StrEnum):
    GZIP = "gzip"
    LZ4 = "lz4"
    NONE = "none"
    SNAPPY = "snappy"
    ZSTD = "zstd"

    def __str__(self) -> str:
        return str(self.value)
