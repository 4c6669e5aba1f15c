# CRC32 (IEEE, as zlib/binascii) for bytecode and retain images. binascii.crc32 is
# optional in MicroPython builds, so a table-less fallback keeps every port working.
try:
    from binascii import crc32 as _crc32

    _crc32(b"")
except (ImportError, AttributeError):
    _crc32 = None


def crc32(data, crc=0):
    """CRC32 of data (bytes, bytearray or memoryview), continuing from crc."""
    if _crc32 is not None:
        return _crc32(data, crc) & 0xFFFFFFFF
    crc = ~crc & 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
    return ~crc & 0xFFFFFFFF
