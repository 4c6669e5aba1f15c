# Rung runtime: loads verified bytecode and runs PLC scans. The same files run on
# MicroPython boards (copied as the package `runtime`) and on CPython (`rung.runtime`).
from .container import LoadError  # noqa: F401

VERSION = "0.1.0"
