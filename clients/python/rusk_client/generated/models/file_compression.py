from enum import StrEnum


class FileCompression(StrEnum):
    BZIP2 = "bzip2"
    GZIP = "gzip"
    XZ = "xz"
    ZSTD = "zstd"

    def __str__(self) -> str:
        return str(self.value)
