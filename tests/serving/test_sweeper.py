"""The sweeper queues again what was lost, and only that: a backlog waiting in the queue is not lost."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

from serving import tasks

from .conftest import embedded_settings, running_api


def test_a_backlog_older_than_stale_after_s_is_not_queued_twice(tmp_path: Path, monkeypatch) -> None:
    # Issue 22, finding 6: a burst larger than stale_after_s of work had every waiting job queued again (and
    # again), so the pool drained duplicates. One worker, held until the jobs are many sweeps stale.
    settings = embedded_settings(tmp_path, stale_after_s=0.3, sweep_every_s=0.05, inprocess_workers=1)
    with running_api(settings) as api:
        gate = threading.Event()
        real_run = tasks.run_submission

        def held(svc, submission_id):
            gate.wait(30)
            return real_run(svc, submission_id)

        monkeypatch.setattr(tasks, "run_submission", held)
        queued = Counter()
        real_enqueue = api.svc.queue.enqueue

        def counted(submission_id: str) -> None:
            queued[submission_id] += 1
            real_enqueue(submission_id)

        monkeypatch.setattr(api.svc.queue, "enqueue", counted)
        ids = [api.submitted(p.data, n, p.value, key=f"burst-{i}")
               for i, (p, n) in enumerate(zip(api.photos[:4], api.numbers[:4], strict=True))]  # fmt: skip
        time.sleep(1.5)  # five times stale_after_s, thirty sweeps
        gate.set()
        assert [api.wait(i)["status"] for i in ids] == ["accepted"] * 4
        assert queued == dict.fromkeys(ids, 1)


def test_a_job_lost_from_an_empty_queue_is_queued_again(tmp_path: Path, monkeypatch) -> None:
    settings = embedded_settings(tmp_path, stale_after_s=0.3, sweep_every_s=0.05)
    with running_api(settings) as api:
        dropped = []
        real_enqueue = api.svc.queue.enqueue

        def lose_first(submission_id: str) -> None:  # the first try vanishes, as from a broker that lost it
            if not dropped:
                dropped.append(submission_id)
                return
            real_enqueue(submission_id)

        monkeypatch.setattr(api.svc.queue, "enqueue", lose_first)
        sid = api.submitted(api.photos[0].data, api.numbers[0], api.photos[0].value)
        assert api.wait(sid, timeout=10)["status"] == "accepted" and dropped == [sid]
