"""The papers a derivation document cites, as BibTeX entries and as a ``thebibliography`` list.

One table (:data:`REFERENCES`) holds each paper once; the BibTeX entries (:func:`bibtex`) and the
typeset list a standalone document prints (:func:`thebibliography`) are both generated from it, so
the two cannot disagree. The same papers are listed in the project's ``CITATION.cff``.
"""
from __future__ import annotations

#: Citation key -> fields of an arXiv ``@article`` entry.
REFERENCES = {
    "li2022neural": {
        "author": ("Mufan Bill Li", "Mihai Nica", "Daniel M. Roy"),
        "title": "The Neural Covariance {SDE}: Shaped Infinite Depth-and-Width Networks "
                 "at Initialization",
        "year": "2022",
        "eprint": "2206.02768",
    },
    "hayou2023width": {
        "author": ("Soufiane Hayou", "Greg Yang"),
        "title": "Width and Depth Limits Commute in Residual Networks",
        "year": "2023",
        "eprint": "2302.00453",
    },
    "bassetti2024proportional": {
        "author": ("Federico Bassetti", "Lucia Ladelli", "Pietro Rotondo"),
        "title": "Proportional infinite-width infinite-depth limit for deep linear neural networks",
        "year": "2024",
        "eprint": "2411.15267",
    },
}

#: The name of the ``.bib`` file a standalone document writes with ``filecontents*``.
BIB_FILE = "covsde-references.bib"


def bibtex() -> str:
    """Every entry of :data:`REFERENCES` as BibTeX (``@article`` with ``eprint`` and ``doi``)."""
    entries = []
    for key, ref in REFERENCES.items():
        fields = {
            "author": " and ".join(ref["author"]),
            "title": "{" + ref["title"] + "}",
            "journal": f"arXiv preprint arXiv:{ref['eprint']}",
            "year": ref["year"],
            "eprint": ref["eprint"],
            "archivePrefix": "arXiv",
            "doi": f"10.48550/arXiv.{ref['eprint']}",
        }
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
        entries.append(f"@article{{{key},\n{body}\n}}")
    return "\n\n".join(entries) + "\n"


def _authors(names) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + (", and " if len(names) > 2 else " and ") + names[-1]


def thebibliography(keys=None) -> str:
    """A ``thebibliography`` environment for the given keys (all by default), for documents that
    compile with one engine run and no BibTeX."""
    keys = list(REFERENCES) if keys is None else list(keys)
    items = []
    for key in keys:
        ref = REFERENCES[key]
        items.append(rf"\bibitem{{{key}}} {_authors(ref['author'])}. "
                     rf"\newblock {ref['title'].replace('{', '').replace('}', '')}. "
                     rf"\newblock arXiv:{ref['eprint']}, {ref['year']}.")
    return "\n".join([r"\begin{thebibliography}{9}", *items, r"\end{thebibliography}"])


def embedded_bibtex() -> str:
    """The BibTeX entries in a ``filecontents*`` environment (placed before ``\\documentclass``),
    so compiling the document also writes :data:`BIB_FILE` for the reader's own bibliography."""
    return "\n".join([rf"\begin{{filecontents*}}[overwrite]{{{BIB_FILE}}}", bibtex().rstrip(),
                      r"\end{filecontents*}"])
