"""A submission's life: ``intake`` stores and queues it (or refuses it at the door), ``process`` reads and
decides it, ``review`` is the one door for people's verdicts, ``record`` writes each decision once with the
event billing receives, ``facts`` gathers what a decision is made on. Callers use the names below and
``intake``."""

from ..tables import EVENT_DECIDED, EVENT_REOPENED
from .facts import hash_bands
from .process import MAX_CRASHES, MAX_RUNS, process, record_lost_run
from .record import DECIDED, FINAL, submission_view
from .review import (
    ItemClaimed,
    clear_reuse,
    read_region,
    reader_reading,
    reopen,
    review_refusal,
    settle,
)

__all__ = [
    "DECIDED",
    "EVENT_DECIDED",
    "EVENT_REOPENED",
    "FINAL",
    "MAX_CRASHES",
    "MAX_RUNS",
    "ItemClaimed",
    "clear_reuse",
    "hash_bands",
    "process",
    "read_region",
    "reader_reading",
    "record_lost_run",
    "reopen",
    "review_refusal",
    "settle",
    "submission_view",
]
