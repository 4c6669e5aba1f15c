"""What the USB commands share: the program compiled and checked against a board, the
board by name, the version checks."""

import difflib
import sys

from rung.errors import CommandError

# What loading a program costs beyond its bytecode, from docs/benchmarks.md ("Memory"):
# the runtime modules (about 20.7 KB) and the loader present while loading (23 KB), plus
# about 2.7 bytes of loaded program per byte of bytecode, plus the file's buffer.
LOAD_OVERHEAD = 44000
LOADED_PER_BYTE = 2.7


def load_board(name):
    """The Board NAME, or a CommandError naming the closest boards."""
    from rung.boards import board_names
    from rung.boards import load_board as load

    if name not in board_names():
        close = difflib.get_close_matches(name, board_names(), n=3, cutoff=0.4)
        hint = f"did you mean {' or '.join(close)}?" if close else "see rung boards"
        raise CommandError(f"unknown board {name!r}: {hint} (boards: {', '.join(board_names())})")
    try:
        return load(name)
    except Exception as exc:  # BoardError: the file itself is broken
        raise CommandError(str(exc)) from None


def compile_for(path, board):
    """(program, rbc bytes) of PROG.rung, refused with rung check's diagnostics if it
    has errors, uses I/O the board lacks or would not fit its heap."""
    program, rbc = compile_program(path)
    if board is not None:
        check_fits(path, program, rbc, board)
    return program, rbc


class Compiled:
    """A program for a board: `program` with its debug section (names, for messages),
    `rbc` the bytes the board gets, without it (docs/firmware.md: the debug section
    would take heap on the board), and their `crc`."""

    def __init__(self, program, lean):
        self.program = program
        self.name = program.name
        self.image = program.image
        self.rbc = lean.to_bytes()
        self.crc = lean.image.crc

    def info(self, path):
        """program.json: which program the board runs, for rung status."""
        import json
        import os

        return (json.dumps({"name": self.name, "crc": self.crc,
                            "source": os.path.basename(path)}) + "\n").encode()


def compile_program(path):
    """(Compiled, its rbc bytes), or rung check's diagnostics and a CommandError."""
    from rung.compiler.api import compile_file, read_source
    from rung.compiler.diagnostics import CompileError, render_all

    try:
        program = compile_file(path)
    except CompileError as exc:
        print(exc.render(), file=sys.stderr)
        errors = sum(1 for d in exc.diagnostics if d.is_error)
        raise CommandError(f"{path}: {errors} error(s); nothing was written to the board") \
            from None
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    if program.warnings:
        print(render_all(program.warnings, read_source(path)), file=sys.stderr)
    compiled = Compiled(program, compile_file(path, debug=False))
    return compiled, compiled.rbc


def check_fits(path, program, rbc, board):
    """CommandError if the program uses I/O the board lacks or would not fit its heap."""
    misfits = board.misfits(program.image)
    if misfits:
        raise CommandError(f"{path} does not fit board {board.name}: {'; '.join(misfits)}")
    need = estimate_heap(len(rbc), len(rbc))
    if need > board.heap_budget:
        raise CommandError(
            f"{path} does not fit board {board.name}: loading it needs about {need} bytes "
            f"of heap, the board has {board.heap_budget} for programs (fewer rungs, or "
            "a board with more memory)"
        )


def estimate_heap(rbc_size, code_size):
    """About the peak heap loading a program takes (docs/benchmarks.md)."""
    return int(LOAD_OVERHEAD + rbc_size + LOADED_PER_BYTE * code_size)


def version_text(version):
    return ".".join(str(x) for x in version)


def check_micropython(version, board, port):
    """CommandError if the board's MicroPython is older than the board file's minimum."""
    want = tuple(int(x) for x in board.data["micropython"].split(".")[:3])
    have = tuple(version[:3])
    if have < want:
        raise CommandError(
            f"MicroPython {version_text(have)} on {port} is too old: board {board.name} needs "
            f"{board.data['micropython']} or newer (install it: docs/flashing.md); nothing "
            "was written"
        )


def retained(code):
    """(layout identity, names of what the program retains) of .rbc bytes, None if they
    do not load."""
    from rung.runtime import Runtime

    try:
        rt = Runtime(code)
    except Exception:  # noqa: BLE001 - a broken old program: nothing to keep anyway
        return None
    codec = rt._codec()
    img = rt.image
    debug = img.debug
    names = []
    from rung.runtime.opcodes import B_RETAIN, F_RETAIN

    for i, var in enumerate(img.vars):
        if var[1] & F_RETAIN:
            names.append(debug.var_names[i] if debug is not None else f"variable {i}")
    for b, blk in enumerate(img.blocks):
        if blk[1] & B_RETAIN:
            names.append(debug.block_names[b] if debug is not None else f"block {b}")
    return codec.layout_id, names
