"""`rung flash PROG.rung --board NAME [--port PORT] [--out DIR]`: make a board with stock
MicroPython a PLC running PROG (docs/flashing.md)."""

import os
import time

from rung.errors import CommandError

from .common import check_micropython, compile_for, load_board, version_text
from .link import BoardLink, find_port, parse_banner
from .plan import PACKAGE_DIRS, build_plan, mpy_for_release, mpy_of


def add_arguments(parser):
    parser.add_argument("program", help="the .rung program to run on the board")
    parser.add_argument("--board", required=True, metavar="NAME", help="board file (rung boards)")
    parser.add_argument("--port", help="serial port (default: the one MicroPython board on USB)")
    parser.add_argument("--out", metavar="DIR",
                        help="write the board's file tree to DIR instead of a board")


def run(args):
    board = load_board(args.board)
    program, rbc = compile_for(args.program, board)
    if args.out:
        return _to_folder(args, board, program)
    port = find_port(args.port)
    started = time.monotonic()
    with BoardLink(port) as link:
        info = link.info()
        check_micropython(info["version"], board, port)
        plan = build_plan(board, rbc, mpy_of(info["mpy"]), info=program.info(args.program))
        hashes, dirs = link.hashes(plan.paths, PACKAGE_DIRS)
        plan.against(hashes, dirs)
        link.left_in = ("the firmware on it is incomplete and the PLC stopped; run rung flash "
                        "again")
        carry_out(link, plan, dirs)
        banner = link.restart()
    _confirm(banner, program.crc, port)
    written = plan.writes
    size = sum(len(s.data) for s in written)
    how = (f".mpy v{plan.mpy[0]}.{plan.mpy[1]}" if plan.mpy else "sources (no mpy-cross for "
           f".mpy v{mpy_of(info['mpy'])[0]}.{mpy_of(info['mpy'])[1]})")
    print(f"{board.name} on {port}: MicroPython {version_text(info['version'])}, modules as "
          f"{how}; {len(written)} file(s) written ({size} bytes), {len(plan.skipped)} "
          f"unchanged; program {program.name} crc {program.crc:08x} RUN "
          f"({time.monotonic() - started:.1f} s)")
    return 0


def carry_out(link, plan, dirs):
    """Write the plan's files to the board in order, with a progress bar; stale modules
    go first."""
    from tqdm import tqdm

    missing = [d for d in PACKAGE_DIRS if dirs.get(d) is None]
    script = "".join(f"import os\nos.mkdir({d!r})\n" for d in missing)
    script += "".join(f"os.remove({p!r})\n" for p in plan.removals)
    if script:
        link.exec("import os\n" + script)
    writes = plan.writes
    if not writes:
        return
    total = sum(len(s.data) for s in writes)
    with tqdm(total=total, unit="B", unit_scale=True, desc="flash", leave=False,
              disable=None) as bar:
        for step in writes:
            bar.set_postfix_str(step.path)
            done = [0]

            def progress(n, _total, done=done):
                bar.update(n - done[0])
                done[0] = n

            if step.kind in ("program", "settings"):
                # written aside and renamed: a cut leaves the old file or the new one
                link.write(step.path + ".tmp", step.data, progress)
                link.exec(f"import os\nos.rename({step.path + '.tmp'!r}, {step.path!r})\n")
            else:
                link.write(step.path, step.data, progress)
            bar.update(len(step.data) - done[0])


def _confirm(banner, crc, port):
    state, running_crc, fault = parse_banner(banner)
    if state is None:
        tail = " ".join(banner.strip().splitlines()[-2:])[:200]
        raise CommandError(f"the board on {port} did not start the PLC after the restart: "
                           f"{tail or 'no output'}")
    if state != "RUN" or running_crc != crc:
        lines = [ln for ln in banner.splitlines() if "fault" in ln.lower() or "Rung" in ln]
        raise CommandError(f"the board on {port} restarted in {state}"
                           + (f" (fault {fault})" if fault else "")
                           + (f": {lines[0].strip()}" if lines else ""))


def _to_folder(args, board, program):
    mpy = mpy_for_release(board.data["micropython"])
    plan = build_plan(board, program.rbc, mpy, info=program.info(args.program))
    plan.write_to(args.out)
    how = f".mpy v{plan.mpy[0]}.{plan.mpy[1]}" if plan.mpy else "sources"
    print(f"{os.path.join(args.out, '')}: the flash tree of {board.name} (modules as {how}, "
          f"for MicroPython {board.data['micropython']} or newer): {len(plan.writes)} "
          f"file(s) written, {len(plan.skipped)} unchanged, {len(plan.removals)} removed")
    return 0
