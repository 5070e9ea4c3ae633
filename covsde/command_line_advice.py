"""Library error messages in command-line words.

The library (``covsde.derive``, ``covsde.solvers``) speaks Python: "give them values first, e.g.
sde.subs(alpha=1)", "use noise='gaussian' with this scheme". At the command line the same advice is
an option: ``--param alpha=1``, ``--noise gaussian``. The library knows nothing of the command line;
this module rewrites its messages, knowing only the options of the command that ran:

1. A call that gives an activation parameter a value (``activation.subs(alpha=0.1)``,
   ``sde.subs(alpha=1)``, ``as_activation('x+alpha', alpha=0.1)``, ``derive_sde(..., alpha=0.1)``)
   becomes ``--param alpha=0.1``; "(A or A)" of two such calls becomes "(A)".
2. A keyword ``name=value`` whose name is an option of the command (its argparse ``dest``) becomes
   ``--option value``: ``use noise='gaussian'`` -> ``use --noise gaussian``.
3. Such a name as the subject of the message (``t must be a positive finite number``), and such a
   name with an underscore anywhere (``c_plus``), becomes the option (``--t``, ``--c-plus``).
   (``parameter NAME`` is left alone: NAME may be an activation parameter that shares an option's
   name, as ``a`` in ``x + a*x**2``; the shaping constant has its own phrase.)
4. The phrases of :data:`PHRASES`, advice that has no option: replaced or dropped.

``tests/test_cli_guards.py`` runs every message the library can raise through this translation.
"""
from __future__ import annotations

import argparse
import re

#: Calls that give an activation parameter a value; group 1 the name, group 2 the value.
PARAMETER_CALLS = (
    re.compile(r"\b(?:activation|act|sde)\.subs\((\w+)=([^()]*?)\)"),
    re.compile(r"\bas_(?:plain_)?activation\([^()]*?,\s*(\w+)=([^()]*?)\)"),
    re.compile(r"\bderive_sde\(\.\.\.,\s*(\w+)=([^()]*?)\)"),
)

#: (pattern, replacement, the option dest it needs or None): advice without a keyword to rewrite.
PHRASES = (
    (re.compile(r"\s*\(e\.g\. \(V \+ V\.T\)/2\)"), "", None),          # symmetrising is the user's call
    (re.compile(r"\bthe schedule alpha(?: =)?"), "{alpha}", "alpha"),
    (re.compile(r"^alpha\(t\) is not finite at t = (\S+)$"),
     r"the schedule {alpha} is not finite at t = \1; give an alpha(t) finite on [0, {t}]", "alpha"),
    (re.compile(r"\bthe shaping constant a\b"), "the shaping constant {a}", "a"),
    (re.compile(r"^parameter a \(the shaping constant\)"), "{a} (the shaping constant)", "a"),
    (re.compile(r"\brtol/atol\b"), "{rtol}", "rtol"),
    (re.compile(r"\s*or a stiff integrator \(integrator='\w+'\)"), "", None),
    (re.compile(r"\bcheck_step=False\b"), "{check_step}", "check_step"),
    (re.compile(r"^alpha\(t\) = "), "the schedule {alpha}: alpha(t) = ", "alpha"),
    (re.compile(r",? or check_step=False to run it anyway"), "", None),   # commands without the option
)

#: Words after which a name at the start of a message is its subject ("t must be ...").
_SUBJECT = r"(?=\s+(?:must|has|have|is|are|holds|applies|needs|takes)\b|\s+\()"
#: A keyword value: quoted text, or a run without spaces, commas, semicolons or closing brackets.
_VALUE = r"('[^']*'|\"[^\"]*\"|[^\s,;)\]]+)"
#: Not inside a longer word, a dotted name, an option (--noise) or a --param NAME=VALUE.
_NOT_AFTER = r"(?<![\w.-])(?<!--param )"


def option_names(parser: argparse.ArgumentParser) -> dict:
    """``{dest: option}`` for the options of a (sub-)command parser: ``{"c_plus": "--c-plus", ...}``.

    Positional arguments, ``--help`` and ``--version`` are left out: they are not advice.
    """
    names = {}
    for action in parser._actions:
        long_options = [s for s in action.option_strings if s.startswith("--")]
        if long_options and action.dest not in ("help", "version"):
            names[action.dest] = long_options[0]
    return names


def command_line_message(message: str, options: dict) -> str:
    """``message`` with its Python advice rewritten as the options of one command (module docstring).

    Parameters
    ----------
    message : str
        A library error message (one sentence; newlines are joined with spaces).
    options : dict
        ``{dest: option}`` of the command that ran, as :func:`option_names` builds it.
    """
    text = " ".join(message.split())
    if "param" in options:
        for pattern in PARAMETER_CALLS:
            text = pattern.sub(lambda match: f"{options['param']} {match[1]}={match[2]}", text)
        text = re.sub(r"(--param \S+?) or \1(?=\W|$)", r"\1", text)
    for pattern, replacement, needs in PHRASES:
        if needs is None or needs in options:
            text = pattern.sub(replacement.format(**options) if needs else replacement, text)
    for dest, option in options.items():
        name = re.escape(dest)
        text = re.sub(_NOT_AFTER + rf"\b{name}={_VALUE}",
                      lambda match, option=option: f"{option} {match[1].strip(chr(39) + chr(34))}", text)
        text = re.sub(rf"^{name}\b{_SUBJECT}", option, text)
        if "_" in dest:
            text = re.sub(_NOT_AFTER + rf"\b{name}\b", option, text)
    return text
