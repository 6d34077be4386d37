"""Shared pieces of the service tests: photos the shipped reader reads clearly, consumers to match, a billing
receiver that verifies webhook signatures."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import verification as v
from meterdata.synth.scene import render_photo
from serving import signing
from verification import Reading
from vision.phash import hamming

PHOTO_SEED = 4242  # never trained on


@dataclass(frozen=True)
class MeterPhoto:
    data: bytes
    value: str
    digits: str
    decimals: int


# The self-reading window is days 1-5 (Asia/Kolkata); submissions in the tests are dated inside it.
IN_WINDOW = "2026-11-02T10:00:00+05:30"
# The consumers' verified readings before IN_WINDOW, and the kWh used up to each (about 8 kWh a day).
HISTORY = (("2026-08-02", 720), ("2026-09-02", 480), ("2026-10-02", 240))


def _history(value: str) -> list[tuple[str, Reading]]:
    r = Reading.parse(value)
    step = 10**r.decimals
    return [(day, Reading(max(0, r.units - used * step), r.decimals)) for day, used in HISTORY]


def _clear(data: bytes, value: str, digits: str) -> tuple[bool, int | None]:
    """Whether the engine accepts this photo automatically, eligible for the draw, for a consumer whose meter
    and history fit it (the reader call and the rules of the service), and also reads it right and sure
    without being told the value (what a reviewer is offered when the typed value is wrong); and its
    perceptual hash."""
    from vision.reader import default_reader
    from vision.reading import Meter

    typed = Reading.parse(value)
    meter = Meter(len(digits), typed.decimals)
    reader = default_reader()
    blind = reader.read(data, meter)
    if not (blind.readable and blind.value == value and blind.confidence >= 0.9):
        return False, None
    if min(blind.digit_confidences) < v.default_config().reader.min_digit_confidence:
        return False, None
    seen = reader.verify(data, value, meter)
    facts = v.Submission(
        consumer=v.Consumer("C", len(digits), typed.decimals, 5),
        typed=typed,
        read=v.ReaderResult.from_reading(seen.to_dict()),
        photo=v.PhotoFacts(datetime.fromisoformat(IN_WINDOW)),
        history=tuple(v.PastReading(date.fromisoformat(day), r) for day, r in _history(value)),
    )
    decision = v.decide(facts)
    photo_hash = seen.reading.photo_hash
    ok = decision.status == v.ACCEPTED and decision.lucky_draw_eligible and photo_hash is not None
    return ok, int(photo_hash, 16) if ok else None


@cache
def clear_photos(n: int = 6, size: tuple[int, int] = (1024, 768)) -> tuple[MeterPhoto, ...]:
    """Synthetic kWh photos the engine accepts automatically, each eligible for the draw (quality flags
    included), and none so alike that one would count as another's reused photo."""
    reuse = v.default_config().photo.reuse_max_distance
    out: list[MeterPhoto] = []
    hashes: list[int] = []
    for index in range(400):
        data, sample = render_photo(PHOTO_SEED, index, size=size, split="test")
        if not (sample.readable and sample.mode == "kwh" and sample.digits) or float(sample.value) < 1000:
            continue  # big enough for a month of history below it
        ok, h = _clear(data, sample.value, sample.digits)
        if not ok or h is None or any(hamming(h, other) <= reuse for other in hashes):
            continue
        out.append(MeterPhoto(data, sample.value, sample.digits, Reading.parse(sample.value).decimals))
        hashes.append(h)
        if len(out) == n:
            return tuple(out)
    raise RuntimeError("not enough photos the engine accepts")


def consumers_csv(photos: tuple[MeterPhoto, ...], prefix: str = "C") -> tuple[str, str, list[str]]:
    """A consumer per photo, with a history that makes the photo's reading plausible (about 8 kWh a day)."""
    numbers = [f"{prefix}{i:05d}" for i in range(len(photos))]
    consumers = "consumer_number,meter_digits,meter_decimals,sanctioned_load_kw\n" + "".join(
        f"{n},{len(p.digits)},{p.decimals},5\n" for n, p in zip(numbers, photos, strict=True)
    )
    readings = "consumer_number,date,reading\n" + "".join(
        f"{n},{day},{r}\n" for n, p in zip(numbers, photos, strict=True) for day, r in _history(p.value)
    )
    return consumers, readings, numbers


@dataclass
class Receiver:
    """A billing system's webhook endpoint: checks each signature, keeps the events, can be 'down' (503) or
    slow (answers after ``delay`` seconds)."""

    secret: str = ""
    down: bool = False
    delay: float = 0.0
    events: list[dict] = field(default_factory=list)
    bad_signatures: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/meterverify"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                if receiver.down:
                    self.send_response(503)
                elif not signing.verify(receiver.secret, body, self.headers.get(signing.HEADER, "")):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                else:
                    event = json.loads(body)
                    assert event["id"] == self.headers[signing.EVENT_HEADER]
                    receiver.events.append(event)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def submission_ids(self) -> list[str]:
        return [e["data"]["id"] for e in self.events]
