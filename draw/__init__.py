"""The monthly lucky draw that nobody can steer, the operator included. Plain Python, no I/O.

photo -> reading -> decision -> ... -> **draw**: every consumer with a lucky-draw-eligible decision in the month
is one entry (``entries``), named in public by the hash of its receipt id. Procedure ``v2``: a statement (seed
hash, counts, times, a future drand round) is published before the window opens; the entries' hash at close,
before that round exists; the run verifies the round's signature (``beacon``) and draws; ``verify`` recomputes
all of it from the report, the public entries file and the published values. ``procedure`` is v1, kept so its
reports stay verifiable.
"""

from . import beacon, v2
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
    "beacon",
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
    "v2",
    "verify",
]
