"""The monthly lucky draw nobody can steer, the operator included: entries, the procedure (``v2``; ``procedure``
is v1), the drand beacon, the verifier, the public page. Plain Python, no I/O."""

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
