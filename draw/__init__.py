"""The monthly lucky draw: frozen entries, a committed seed, winners anyone can recompute. Plain Python, no I/O.

photo -> reading -> decision -> ... -> **draw**: every consumer with a lucky-draw-eligible decision in the month
is one entry (``entries``); a secret seed is committed to before the window opens (``procedure.commit``);
the draw reveals it and derives winners and reserves from it, the entries file's hash and an optional public
random value (``procedure.draw``); ``verify`` recomputes all of it from the report and the entries file.
"""

from .entries import Entry, canonical_csv, entries_sha256, parse_entries, pick_entries
from .procedure import PROCEDURE, Commitment, commit, draw, new_seed
from .report import Report, mask, run, to_html
from .verify import Failure, verify

__all__ = [
    "PROCEDURE",
    "Commitment",
    "Entry",
    "Failure",
    "Report",
    "canonical_csv",
    "commit",
    "draw",
    "entries_sha256",
    "mask",
    "new_seed",
    "parse_entries",
    "pick_entries",
    "run",
    "to_html",
    "verify",
]
