"""The decision rules: what happens to a self-reading submission (accept, review, reject; the draw flag), what
a reviewed reading must fit, and the words for every reason. Plain Python, no I/O."""

from .config import UtilityConfig, default_config
from .decision import (
    ACCEPTED,
    ALREADY_ENTERED,
    NEEDS_REVIEW,
    REJECTED,
    Decision,
    ReviewRefused,
    accept_after_review,
    check_reviewed,
    decide,
    offered_reading,
    reject_after_review,
)
from .model import (
    Consumer,
    EarlierPhoto,
    Finding,
    PastReading,
    PhotoFacts,
    ReaderResult,
    Reading,
    Submission,
    meter_spec_ok,
)

__all__ = [
    "ACCEPTED",
    "ALREADY_ENTERED",
    "NEEDS_REVIEW",
    "REJECTED",
    "Consumer",
    "Decision",
    "EarlierPhoto",
    "Finding",
    "PastReading",
    "PhotoFacts",
    "Reading",
    "ReaderResult",
    "ReviewRefused",
    "Submission",
    "UtilityConfig",
    "accept_after_review",
    "check_reviewed",
    "decide",
    "default_config",
    "meter_spec_ok",
    "offered_reading",
    "reject_after_review",
]
