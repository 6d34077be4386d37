"""The service tried as an attacker and as a careless client would: one error shape, strict input, tenancy,
safe webhooks, decisions that never wait for a receiver, recovery that takes seconds."""

from __future__ import annotations

import io
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from serving import keys, tables, webhook_url
from serving.store import StoreUnavailable

from .conftest import Api, bearer, embedded_settings, running_api
from .helpers import IN_WINDOW, Receiver, consumers_csv


def _count(api: Api, table) -> int:
    with api.svc.sessions() as s:
        return s.scalar(select(func.count()).select_from(table))


# --- one error shape, never an echo ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"drop": "consumer_number"},
        {"drop": "typed_reading"},
        {"consumer_number": "C" * 100_000},
        {"typed_reading": "9" * 100_000},
        {"channel": "x" * 100_000},
    ],
)
def test_validation_errors_have_one_shape_and_echo_nothing(api: Api, change: dict) -> None:
    fields = {"consumer_number": api.numbers[0], "typed_reading": "1234", "submitted_at": IN_WINDOW}
    fields.pop(change.pop("drop", ""), None)
    fields.update(change)
    r = api.client.post(
        "/v1/submissions",
        headers={**api.billing, "Idempotency-Key": "shape"},
        files={"photo": ("m.jpg", api.photos[0].data, "image/jpeg")},
        data=fields,
    )
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert set(detail) >= {"code", "message"} and isinstance(detail["message"], str)
    assert len(r.content) < 1000  # the 100 KB value is not sent back
    assert _count(api, tables.Submission) == 0


@pytest.mark.parametrize("key", ["", "k" * 100_000, "has space", "ключ"])
def test_a_missing_or_malformed_idempotency_key_is_one_short_error(api: Api, key: str) -> None:
    headers = {**api.billing}
    if key:
        headers["Idempotency-Key"] = key.encode("utf-8")
    r = api.client.post(
        "/v1/submissions",
        headers=headers,
        files={"photo": ("m.jpg", api.photos[0].data, "image/jpeg")},
        data={"consumer_number": api.numbers[0], "typed_reading": "1", "submitted_at": IN_WINDOW},
    )
    assert r.status_code in (400, 422)
    assert r.json()["detail"]["code"] in ("missing_field", "bad_idempotency_key")
    assert len(r.content) < 1000


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/v1/submissions/not-a-uuid"),
        ("POST", "/v1/submissions/" + "x" * 5000 + "/review"),
        ("DELETE", "/v1/webhooks/99999999999999"),
        ("GET", "/v1/nothing-here"),
        ("PUT", "/v1/verified"),
    ],
)
def test_bad_ids_and_routes_answer_in_the_same_shape(api: Api, method: str, path: str) -> None:
    r = api.client.request(method, path, headers=api.admin, json={"action": "reject"})
    assert 400 <= r.status_code < 500
    assert set(r.json()["detail"]) >= {"code", "message"}
    assert len(r.content) < 1000


# --- strict input ------------------------------------------------------------------------------------------


def test_a_repeated_form_field_is_refused(api: Api) -> None:
    photo = api.photos[0]
    r = api.client.post(
        "/v1/submissions",
        headers={**api.billing, "Idempotency-Key": "twice"},
        files=[
            ("photo", ("m.jpg", photo.data, "image/jpeg")),
            ("consumer_number", (None, api.numbers[0])),
            ("typed_reading", (None, photo.value)),
            ("typed_reading", (None, "1")),
            ("submitted_at", (None, IN_WINDOW)),
        ],
    )
    assert r.status_code == 422 and r.json()["detail"]["code"] == "repeated_field"
    assert "typed_reading" in r.json()["detail"]["message"]
    assert _count(api, tables.Submission) == 0


def _in_script(value: str, zero: int) -> str:
    return "".join(chr(zero + int(c)) if c.isdigit() else c for c in value)


@pytest.mark.parametrize(
    "zero, script", [(0x0966, "devanagari"), (0x06F0, "extended_arabic_indic"), (0xFF10, "fullwidth")]
)
def test_indian_digit_scripts_are_normalised_and_recorded(api: Api, zero: int, script: str) -> None:
    photo = api.photos[0]
    typed = _in_script(photo.value, zero)
    r = api.submit(photo.data, api.numbers[0], typed, key=f"script-{script}")
    assert r.status_code == 202, r.text
    body = api.wait(r)
    assert body["typed_reading"] == photo.value and body["typed_as"] == typed
    assert body["status"] == "accepted"
    with api.svc.sessions() as s:
        assert s.get(tables.Submission, body["id"]).typed_script == script


@pytest.mark.parametrize("typed", ["๑๒๓๔", "१२34", "¹²³", "\U0001d7cf\U0001d7d0"])
def test_other_digit_scripts_and_mixtures_are_refused(api: Api, typed: str) -> None:
    r = api.submit(api.photos[0].data, api.numbers[0], typed, key="odd-digits")
    assert r.status_code == 422 and r.json()["detail"]["code"] in ("unsupported_digits", "malformed_reading")
    assert _count(api, tables.Submission) == 0


def test_submitted_at_is_bounded_by_when_the_service_received_it(tmp_path: Path) -> None:
    with running_api(embedded_settings(tmp_path, submitted_at_max_age_h=72)) as api:
        old = api.submit(api.photos[0].data, api.numbers[0], "1", submitted_at="1900-01-01T00:00:00+05:30")
        assert old.status_code == 422 and old.json()["detail"]["code"] == "submitted_at_too_old"
        recent = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 3600))
        ok = api.submit(
            api.photos[0].data, api.numbers[0], api.photos[0].value, key="k2", submitted_at=recent
        )
        assert ok.status_code == 202, ok.text
        with api.svc.sessions() as s:
            sub = s.get(tables.Submission, ok.json()["id"])
            assert sub.received_at - sub.submitted_at > timedelta(minutes=59)  # both are kept


def _with_exif_time(jpeg: bytes, taken: str) -> bytes:
    image = Image.open(io.BytesIO(jpeg))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken  # DateTimeOriginal, local time of the camera
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif)
    return out.getvalue()


def test_an_old_photo_by_its_exif_time_goes_to_review(api: Api) -> None:
    photo = api.photos[1]
    old = _with_exif_time(photo.data, "2026:10:20 09:00:00")  # 13 days before IN_WINDOW
    r = api.submit(old, api.numbers[1], photo.value, key="exif-old")
    body = api.wait(r)
    assert body["status"] == "needs_review"
    assert "photo_old" in [reason["code"] for reason in body["reasons"]]
    fresh = _with_exif_time(photo.data, "2026:11:02 09:55:00")  # five minutes before it was sent
    body = api.wait(api.submitted(fresh, api.numbers[2], api.photos[2].value, key="exif-fresh"))
    assert "photo_old" not in [reason["code"] for reason in body["reasons"]]


def test_consumer_import_empty_files_and_its_own_size_limit(tmp_path: Path) -> None:
    with running_api(embedded_settings(tmp_path, max_photo_mb=1, max_import_mb=8)) as api:
        empty = api.client.post(
            "/v1/consumers/import", headers=api.admin, files={"consumers": ("c.csv", b"")}
        )
        assert empty.status_code == 422 and "empty" in empty.json()["detail"]["message"]
        header_only = api.client.post(
            "/v1/consumers/import",
            headers=api.admin,
            files={
                "consumers": ("c.csv", b"consumer_number,meter_digits,meter_decimals,sanctioned_load_kw\n")
            },
        )
        assert header_only.status_code == 422
        # 2 MB of readings: over the photo limit, under the import limit.
        rows = "".join(
            f"{api.numbers[0]},{2000 + i // 365:04d}-{1 + i % 12:02d}-{1 + i % 28:02d},{i}\n"
            for i in range(70_000)
        )
        big = ("consumer_number,date,reading\n" + rows).encode()
        assert len(big) > 1024 * 1024
        r = api.client.post("/v1/consumers/import", headers=api.admin, files={"readings": ("r.csv", big)})
        assert r.status_code == 200, r.text[:300]


def test_a_big_import_does_not_hold_decisions_for_its_whole_length(api: Api, monkeypatch) -> None:
    from serving import consumers

    monkeypatch.setattr(consumers, "BATCH", 100)
    held = []
    lock = api.svc.decision_lock

    def counting_lock():
        held.append(time.monotonic())
        return lock()

    monkeypatch.setattr(api.svc, "decision_lock", counting_lock)
    first = date(2020, 1, 1)
    rows = "".join(f"{api.numbers[0]},{first + timedelta(days=i)},{i}\n" for i in range(1000))
    r = api.client.post(
        "/v1/consumers/import",
        headers=api.admin,
        files={"readings": ("r.csv", ("consumer_number,date,reading\n" + rows).encode())},
    )
    assert r.status_code == 200, r.text
    assert len(held) >= 3  # the lock was taken batch by batch, so decisions could run in between


# --- several utilities on one service ----------------------------------------------------------------------


@dataclass
class Tenant:
    billing: dict
    reviewer: dict
    admin: dict
    numbers: list[str]


def _second_utility(api: Api) -> Tenant:
    with api.svc.sessions.begin() as s:
        made = {
            scope: bearer(keys.create_key(s, f"north {scope}", [scope], "north"))
            for scope in ("billing", "reviewer", "admin")
        }
    consumers, readings, numbers = consumers_csv(api.photos, prefix="N")
    r = api.client.post(
        "/v1/consumers/import",
        headers=made["admin"],
        files={"consumers": ("c.csv", consumers), "readings": ("r.csv", readings)},
    )
    assert r.status_code == 200, r.text
    return Tenant(made["billing"], made["reviewer"], made["admin"], numbers)


def _submit(api: Api, headers: dict, number: str, typed: str, key: str):
    return api.client.post(
        "/v1/submissions",
        headers={**headers, "Idempotency-Key": key},
        files={"photo": ("m.jpg", api.photos[0].data, "image/jpeg")},
        data={"consumer_number": number, "typed_reading": typed, "submitted_at": IN_WINDOW},
    )


def test_a_key_sees_and_changes_only_its_utilitys_data(api: Api, receiver: Receiver) -> None:
    north = _second_utility(api)
    # Webhooks: each utility registers its own; the other's are invisible.
    hook = api.client.post("/v1/webhooks", headers=api.admin, json={"url": receiver.url})
    receiver.secret = hook.json()["secret"]
    north_receiver = Receiver().start()
    try:
        north_hook = api.client.post("/v1/webhooks", headers=north.admin, json={"url": north_receiver.url})
        north_receiver.secret = north_hook.json()["secret"]
        assert north_hook.json()["utility"] == "north"

        mine = _submit(api, api.billing, api.numbers[0], api.photos[0].value, "mine").json()["id"]
        theirs = _submit(api, north.billing, north.numbers[0], api.photos[0].value, "theirs").json()["id"]
        typo = _submit(api, api.billing, api.numbers[0], "1", "typo").json()["id"]  # goes to review
        for sid in (mine, typo):
            api.wait(sid)
        # submissions: another utility's id is a 404; another utility's consumer is unknown
        assert api.client.get(f"/v1/submissions/{mine}", headers=north.billing).status_code == 404
        assert api.client.get(f"/v1/submissions/{theirs}", headers=north.billing).status_code == 200
        cross = _submit(api, north.billing, api.numbers[1], "1", "cross")
        assert cross.status_code == 422 and cross.json()["detail"]["code"] == "unknown_consumer"
        # review
        assert api.wait(typo)["status"] == "needs_review"
        r = api.client.post(
            f"/v1/submissions/{typo}/review", headers=north.reviewer, json={"action": "reject"}
        )
        assert r.status_code == 404
        # consumers: readings, and an import naming another utility's consumer or another utility
        assert (
            api.client.get(f"/v1/consumers/{api.numbers[0]}/readings", headers=north.billing).status_code
            == 404
        )
        header = "consumer_number,meter_digits,meter_decimals,sanctioned_load_kw"
        steal = api.client.post(
            "/v1/consumers/import",
            headers=north.admin,
            files={"consumers": ("c.csv", f"{header}\n{api.numbers[0]},6,1,5\n")},
        )
        assert steal.status_code == 422 and "another utility" in steal.json()["detail"]["message"]
        claim = api.client.post(
            "/v1/consumers/import",
            headers=north.admin,
            files={"consumers": ("c.csv", f"{header},utility\nNEW-1,6,1,5,default\n")},
        )
        assert claim.status_code == 422
        with api.svc.sessions() as s:
            assert s.get(tables.Consumer, api.numbers[0]).utility == "default"
        # feed: each sees its own decisions
        api.wait(theirs)
        north_feed = api.client.get("/v1/verified", headers=north.billing).json()["events"]
        assert {e["data"]["id"] for e in north_feed} == {theirs}
        assert theirs not in {
            e["data"]["id"] for e in api.client.get("/v1/verified", headers=api.billing).json()["events"]
        }
        # webhooks: listed, removed and delivered per utility
        assert [h["id"] for h in api.client.get("/v1/webhooks", headers=north.admin).json()] == [
            north_hook.json()["id"]
        ]
        assert api.client.delete(f"/v1/webhooks/{hook.json()['id']}", headers=north.admin).status_code == 404
        deadline = time.monotonic() + 20
        while (not receiver.events or not north_receiver.events) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert receiver.submission_ids() == [mine] and north_receiver.submission_ids() == [theirs]
        # outbox
        north_outbox = api.client.get("/v1/outbox?state=all", headers=north.admin).json()
        assert len(north_outbox) == 1 and north_outbox[0]["endpoint_id"] == north_hook.json()["id"]
        default_delivery = api.client.get("/v1/outbox?state=all", headers=api.admin).json()[0]["id"]
        assert (
            api.client.post(f"/v1/outbox/{default_delivery}/replay", headers=north.admin).status_code == 404
        )
        # keys: an admin manages its own utility's keys only
        listed = api.client.get("/v1/keys", headers=north.admin).json()
        assert {k["utility"] for k in listed} == {"north"}
        default_billing_id = api.billing["Authorization"].split("_")[1]
        assert api.client.delete(f"/v1/keys/{default_billing_id}", headers=north.admin).status_code == 404
        # the operator sees both utilities
        everything = api.client.get("/v1/verified", headers=api.operator).json()["events"]
        assert {mine, theirs} <= {e["data"]["id"] for e in everything}
        assert api.client.get(f"/v1/submissions/{theirs}", headers=api.operator).status_code == 200
    finally:
        north_receiver.stop()


def test_keys_over_the_api_and_revocation_takes_effect_at_once(api: Api) -> None:
    made = api.client.post("/v1/keys", headers=api.admin, json={"name": "erp", "scopes": ["billing"]})
    assert made.status_code == 201 and made.json()["utility"] == "default"
    key = bearer(made.json()["key"])
    assert api.client.get("/v1/verified", headers=key).status_code == 200
    assert made.json()["key"] not in api.client.get("/v1/keys", headers=api.admin).text
    assert api.client.delete(f"/v1/keys/{made.json()['id']}", headers=api.admin).status_code == 204
    assert api.client.get("/v1/verified", headers=key).status_code == 401
    # An admin cannot mint keys for another utility, nor operator keys.
    other = api.client.post(
        "/v1/keys", headers=api.admin, json={"name": "x", "scopes": ["billing"], "utility": "north"}
    )
    assert other.status_code == 422
    op = api.client.post("/v1/keys", headers=api.admin, json={"name": "x", "scopes": ["operator"]})
    assert op.status_code == 403
    by_operator = api.client.post(
        "/v1/keys", headers=api.operator, json={"name": "n", "scopes": ["admin"], "utility": "north"}
    )
    assert by_operator.status_code == 201 and by_operator.json()["utility"] == "north"
    assert (
        api.client.post(
            "/v1/consumers/import", headers=api.operator, files={"consumers": ("c.csv", b"x")}
        ).status_code
        == 422
    )


# --- webhooks ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://user:password@billing.example.com/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_internal_addresses_and_credentials_are_refused(api: Api, url: str) -> None:
    r = api.client.post("/v1/webhooks", headers=api.admin, json={"url": url})
    assert r.status_code == 422 and r.json()["detail"]["code"] == "webhook_url_not_allowed", r.text
    assert _count(api, tables.WebhookEndpoint) == 0


# Every spelling of an internal address the resolver accepts (issue 22, finding 5).
LOOPBACK_SPELLINGS = [
    "2130706433", "0x7f.1", "017700000001", "127.1", "0x7f000001", "0177.0.0.1", "0", "localhost.", "LOCALHOST",
    "[::127.0.0.1]", "[64:ff9b::7f00:1]", "[64:ff9b::a00:1]", "[2002:7f00:1::]", "[2002:a9fe:a9fe::1]",
    "[::ffff:7f00:1]", "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # the last: Teredo to 127.0.0.1
]  # fmt: skip


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_every_spelling_of_an_internal_address_is_refused_at_registration_and_at_send(host: str) -> None:
    url = f"http://{host}:8080/hook"
    with pytest.raises(webhook_url.UnsafeUrl):
        webhook_url.check(url, [])
    with pytest.raises(webhook_url.UnsafeUrl):
        webhook_url.resolve(url, [])


def test_public_addresses_in_odd_spellings_still_pass() -> None:
    for host in ("8.8.8.8", "0x8080808", "[2001:4860:4860::8888]", "[64:ff9b::808:808]"):
        webhook_url.check(f"http://{host}/hook", [])


def test_an_allowed_host_and_a_public_one_are_accepted(api: Api) -> None:
    for url in ("http://127.0.0.1:8080/hook", "https://billing.example.com/hooks/mv"):
        assert api.client.post("/v1/webhooks", headers=api.admin, json={"url": url}).status_code == 201


def test_a_name_that_resolves_to_an_internal_address_is_refused_at_send_time(api: Api, monkeypatch) -> None:
    hook = api.client.post("/v1/webhooks", headers=api.admin, json={"url": "http://billing.example.com/hook"})
    assert hook.status_code == 201  # a public-looking name passes registration...
    real = socket.getaddrinfo

    def rebound(host, *args, **kw):  # ...and is re-pointed at the loopback afterwards
        if host == "billing.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))]
        return real(host, *args, **kw)

    monkeypatch.setattr(webhook_url.socket, "getaddrinfo", rebound)
    body = api.wait(api.submitted(api.photos[0].data, api.numbers[0], api.photos[0].value))
    assert body["status"] == "accepted"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        failing = api.client.get("/v1/outbox?state=failing", headers=api.admin).json()
        if failing:
            break
        time.sleep(0.1)
    assert failing and "internal address" in failing[0]["last_error"]
    assert failing[0]["delivered_at"] is None


@pytest.fixture
def slow_receiver() -> Iterator[Receiver]:
    r = Receiver(delay=5).start()
    yield r
    r.stop()


def test_a_slow_receiver_does_not_slow_decisions(api: Api, slow_receiver: Receiver) -> None:
    hook = api.client.post("/v1/webhooks", headers=api.admin, json={"url": slow_receiver.url})
    slow_receiver.secret = hook.json()["secret"]
    start = time.monotonic()
    ids = [
        api.submitted(p.data, n, p.value, key=f"slow-{i}")
        for i, (p, n) in enumerate(zip(api.photos[:4], api.numbers[:4], strict=True))
    ]
    decided = [api.wait(i) for i in ids]
    took = time.monotonic() - start
    assert all(d["status"] == "accepted" for d in decided)
    assert took < 5, f"4 decisions took {took:.1f} s: they waited for the 5 s receiver"
    deadline = time.monotonic() + 30
    while len(slow_receiver.events) < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sorted(slow_receiver.submission_ids()) == sorted(ids)  # and billing still hears of every one


# --- recovery ----------------------------------------------------------------------------------------------


def test_a_store_outage_does_not_use_up_attempts_and_jobs_are_decided_after_it(api: Api, monkeypatch) -> None:
    real_get = api.svc.store.get
    down_until = time.monotonic() + 8  # longer than the five attempts' worth of quick retries used to last

    def flaky_get(digest: str) -> bytes:
        if time.monotonic() < down_until:
            raise StoreUnavailable("store down for maintenance")
        return real_get(digest)

    monkeypatch.setattr(api.svc.store, "get", flaky_get)
    ids = [
        api.submitted(p.data, n, p.value, key=f"outage-{i}")
        for i, (p, n) in enumerate(zip(api.photos[:3], api.numbers[:3], strict=True))
    ]
    decided = [api.wait(i, timeout=40) for i in ids]
    assert time.monotonic() - down_until < 20
    assert [d["status"] for d in decided] == ["accepted"] * 3, [d["reasons"] for d in decided]
    with api.svc.sessions() as s:
        assert all(s.get(tables.Submission, i).attempts == 1 for i in ids)  # the outage counted for nothing


def test_api_docs_load_without_a_cdn(api: Api) -> None:
    page = api.client.get("/docs").text
    assert "cdn." not in page and "unpkg" not in page
    for asset in re.findall(r'(?:src|href)="(/[^"]+\.(?:js|css))"', page):
        assert api.client.get(asset).status_code == 200, asset
    assert "swagger-ui-bundle.js" in page
