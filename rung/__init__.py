"""Rung: an open-source PLC for cheap microcontrollers.

Public API (CPython):
    rung.compile_source(text, filename="<string>") -> rung.Program
    rung.compile_file(path) -> rung.Program
    rung.Program.to_bytes() / rung.Program.from_bytes(b)
    rung.CompileError (carries .diagnostics)
    rung.Simulator(program) -- the runtime on a virtual clock, for tests
"""

__version__ = "0.1.0"

# Imported lazily so `import rung` stays cheap and the CLI starts fast.
_EXPORTS = {
    "compile_source": ("rung.compiler.api", "compile_source"),
    "compile_file": ("rung.compiler.api", "compile_file"),
    "Program": ("rung.compiler.api", "Program"),
    "CompileError": ("rung.compiler.diagnostics", "CompileError"),
    "Simulator": ("rung.simulator", "Simulator"),
    "LoadError": ("rung.runtime.container", "LoadError"),
}

__all__ = sorted(_EXPORTS)


_SUBPACKAGES = ("compiler", "runtime", "emulator")


def __getattr__(name):
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module("rung." + name)
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rung' has no attribute {name!r}")
    import importlib

    module, attr = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
