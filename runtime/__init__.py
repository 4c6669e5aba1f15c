# Rung runtime: loads verified bytecode and runs PLC scans. The same files run on
# MicroPython boards (copied as the package `runtime`) and on CPython (`rung.runtime`).
from .engine import STATE_FAULT, STATE_RUN, STATE_STOP, Runtime  # noqa: F401
from .image import LoadError  # noqa: F401

VERSION = "0.1.0"
