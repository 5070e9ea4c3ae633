"""``covsde activations``: the shaped limit of every built-in activation, as a Markdown table."""
from __future__ import annotations


def register(sub):
    p = sub.add_parser("activations", help="the built-in activations and their shaped limits (a table)",
                       description="For each built-in activation (default parameters): its family, the "
                                   "critical exponent p of s = a n^p, the norm drift b(V) of "
                                   "dV = b(V) dt + sqrt(2) V dB, k and the regime of the norm; or why it has "
                                   "no shaped limit.")
    p.set_defaults(func=run)


def run(args) -> int:
    from covsde.derive.activation_table import builtin_table
    print(builtin_table())
    return 0
