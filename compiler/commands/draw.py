"""`rung draw PROG.rung|PROG.rbc`: each rung as an ASCII ladder diagram."""

from rung.errors import CommandError
from rung.runtime import Runtime
from rung.runtime.container import LoadError

from ..draw import draw
from ._load import load_image


def add_arguments(parser):
    parser.add_argument("program", help="a .rung source or a compiled .rbc file")


def run(args):
    img = load_image(args.program)
    if img is None:
        return 1
    try:
        Runtime(img.data)  # the verifier: only well-formed code can be drawn
    except LoadError as exc:
        raise CommandError(f"{args.program}: {exc}") from None
    print(draw(img), end="")
    return 0
