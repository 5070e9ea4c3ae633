"""The README is the front door: its Python example runs, and its CLI transcript is current."""
import re
from pathlib import Path

import numpy as np

from covsde.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_block():
    text = README.read_text()
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


def test_readme_python_example_runs_at_small_size():
    code = _python_block()
    # same calls, smaller sizes so the test is quick
    for big, small in (("100_000", "2000"), ("10_000", "500"), ("steps=5000", "steps=500"),
                       ("width=128, depth=128, networks=2000", "width=16, depth=16, networks=200"),
                       ("width=256, depth=256, networks=100", "width=16, depth=16, networks=10")):
        code = code.replace(big, small)
    namespace = {"V": np.array([[1.2, 0.3], [0.3, 0.8]]), "v": np.array([0.5, 1.0])}
    exec(compile(code, "README.md", "exec"), namespace)
    sde = namespace["sde"]
    # the comments of the example state these values
    assert str(sde.drift_expr) == "R*(-A - B + 2)" and sde.stability.k == -2


def test_readme_derive_transcript_is_current(capsys):
    text = README.read_text()
    shown = text.split("$ covsde derive tanh\n", 1)[1].split("```", 1)[0].rstrip()
    assert main(["derive", "tanh"]) == 0
    assert capsys.readouterr().out.rstrip() == shown
