"""`rung dis PROG.rung|PROG.rbc`: the bytecode listing with rung names and source lines."""

from ..disassemble import disassemble
from ._load import load_image


def add_arguments(parser):
    parser.add_argument("program", help="a .rung source or a compiled .rbc file")


def run(args):
    img = load_image(args.program)
    if img is None:
        return 1
    print(disassemble(img), end="")
    return 0
