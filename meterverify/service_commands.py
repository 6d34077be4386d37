"""``meterverify serve | worker | db | keys | consumers``: running and administering the service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

db_app = typer.Typer(help="The service's database.", no_args_is_help=True)
keys_app = typer.Typer(
    help="API keys, each for one utility (scopes: billing, reviewer, analyst, admin; operator: all utilities).",
    no_args_is_help=True,
)
consumers_app = typer.Typer(help="Consumers and their verified reading history.", no_args_is_help=True)


def _service(queue: bool = False):
    """The service for a command; ``queue``: one that runs submissions (serve), not just reads and writes."""
    from serving.config import get_settings
    from serving.service import Service
    from serving.tasks import make_queue

    return Service.from_settings(get_settings(), make_queue if queue else None)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool | None,
        typer.Option(
            "--demo/--no-demo",
            help="Seed demo consumers, photos and API keys (default: on when no database is configured).",
        ),
    ] = None,
) -> None:
    """Run the verification API (and, with no broker configured, the workers in the same process).

    With no configuration: SQLite and photos under var/, tasks in-process, shipped models, demo data.
    Distributed: set METERVERIFY_DATABASE_URL, METERVERIFY_BROKER_URL and METERVERIFY_S3_* (or a TOML file
    named by METERVERIFY_CONFIG), run `meterverify db upgrade` once, then `meterverify worker` anywhere.
    """
    import uvicorn

    from meterverify.app import create_app
    from serving.api.server import JsonErrorsH11
    from serving.config import get_settings
    from serving.database import upgrade

    settings = get_settings()
    if not settings.embedded_broker and not settings.session_secret.get_secret_value():
        # Each API replica would make its own: a reviewer's session would work on one replica only.
        typer.echo(
            "distributed mode needs METERVERIFY_SESSION_SECRET, the same on every API replica", err=True
        )
        raise typer.Exit(2)
    svc = _service(queue=True)
    if svc.engine.dialect.name == "sqlite":
        upgrade(svc.engine)
    url = f"http://{host}:{port}"
    mode = (
        "embedded (tasks in this process)"
        if settings.embedded_broker
        else f"distributed (broker {settings.broker_url.split('@')[-1]})"
    )
    typer.echo(f"meterverify {mode}; database {svc.engine.url.render_as_string(hide_password=True)}")
    if demo if demo is not None else not settings.database_url:
        from meterverify.demo import seed

        d = seed(svc)
        typer.echo(
            f"demo consumers: {', '.join(n for _, n, _ in d.photos)}; their photos in {Path(d.photos[0][0]).parent}"
        )
        typer.echo(f"demo billing key:  {d.billing_key}")
        typer.echo(f"demo admin key:    {d.admin_key}")
        typer.echo(f"demo reviewer key: {d.reviewer_key}")
        typer.echo(
            f"review UI: {url}/review/  (demo-reviewer or demo-supervisor, password {d.review_password})"
        )
        path, number, value = d.photos[0]
        typer.echo(
            f"try:  curl -H 'Authorization: Bearer {d.billing_key}' -H 'Idempotency-Key: demo-1' "
            f"-F 'photo=@{path};type=image/jpeg' -F consumer_number={number} -F typed_reading={value} "
            f"{url}/v1/submissions"
        )
    typer.echo(
        f"API: {url}/v1   docs: {url}/docs   review: {url}/review/   health: {url}/readyz   metrics: {url}/metrics"
    )
    uvicorn.run(create_app(settings, service=svc), host=host, port=port, log_level="info", http=JsonErrorsH11)


def worker(
    concurrency: Annotated[
        int, typer.Option(help="Processes (or threads) in this worker, one job each.")
    ] = 1,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, solo or threads.")] = "prefork",
    queue: Annotated[
        str,
        typer.Option(
            help="decisions: read photos and decide. webhooks: send the outbox to billing (I/O only: use "
            "--pool threads --concurrency 8). A slow receiver then never delays a decision."
        ),
    ] = "decisions",
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "INFO",
    name: Annotated[
        str | None, typer.Option(help="Worker name, unique per host (default: meterverify-<pid>@<host>).")
    ] = None,
    metrics_port: Annotated[
        int,
        typer.Option(
            help="Serve /metrics (every process of this worker, summed) and /healthz (200 when it can take "
            "jobs: a live pool process and the broker answering; else 503) on this port; 0: off."
        ),
    ] = 0,
) -> None:
    """Run a Celery worker: fetches photos, reads them, decides (or, --queue webhooks, delivers the events).

    Needs METERVERIFY_BROKER_URL, METERVERIFY_DATABASE_URL and the S3 settings (as `serve`). Start as many as
    the load needs, on any host; a worker that dies mid-job leaves it to another.
    """
    import os
    import tempfile

    if queue not in ("decisions", "webhooks"):
        raise typer.BadParameter("--queue is decisions or webhooks")
    if metrics_port:
        # Prometheus' multiprocess mode: each pool process writes its metrics to files in this folder, and
        # this process serves their sum. Set before any metric exists.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="meterverify-metrics-")
    from serving.config import get_settings
    from serving.tasks import celery_app, webhook_queue

    settings = get_settings()
    if settings.embedded_broker:
        raise typer.BadParameter(
            "no broker configured (METERVERIFY_BROKER_URL); `meterverify serve` runs tasks itself"
        )
    celery_app.conf.broker_url = settings.broker_url
    if metrics_port:
        from serving.worker_health import WorkerEndpoint

        def broker_ok() -> bool:
            with celery_app.connection_for_read() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            return True

        WorkerEndpoint(os.environ["PROMETHEUS_MULTIPROC_DIR"], broker_ok).serve(metrics_port)
        _count_worker_processes(pool)
    name = name or f"meterverify-{queue}-{os.getpid()}@%h"
    celery_app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--pool={pool}",
            f"--loglevel={loglevel}",
            f"--hostname={name}",
            "-Q",
            settings.task_queue if queue == "decisions" else webhook_queue(settings),
            "--without-gossip",
            "--without-mingle",
        ]
    )


def _count_worker_processes(pool: str) -> None:
    """``meterverify_worker_processes``: 1 in every process that takes jobs (a prefork child, or the worker
    itself with a solo or threads pool); a dead process drops out of the sum."""
    from celery import signals
    from prometheus_client import multiprocess

    from serving.metrics import WORKER_PROCESSES

    @signals.worker_process_init.connect(weak=False)
    def _child_up(**_) -> None:
        WORKER_PROCESSES.set(1)

    @signals.worker_process_shutdown.connect(weak=False)
    def _child_down(pid=None, **_) -> None:
        import os

        multiprocess.mark_process_dead(pid or os.getpid())

    if pool != "prefork":  # the jobs run in this very process
        WORKER_PROCESSES.set(1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (Alembic migrations). Safe to run again."""
    from serving.config import get_settings
    from serving.database import current_revision, make_engine, upgrade

    engine = make_engine(get_settings().sqlalchemy_url)
    where = engine.url.render_as_string(hide_password=True)
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    if before == after:
        typer.echo(f"database {where} was up to date already (revision {after})")
    elif before is None:
        typer.echo(f"database {where} was empty: created the tables (revision {after})")
    else:
        typer.echo(f"database {where} upgraded from revision {before} to {after}")


@keys_app.command("create")
def keys_create(
    scope: Annotated[
        list[str],
        typer.Option("--scope", help="billing, reviewer, analyst, admin or operator (repeatable)."),
    ],
    utility: Annotated[
        str, typer.Option(help="The utility (discom) whose data the key sees; ignored for operator keys.")
    ] = "default",
    name: Annotated[str, typer.Option(help="Who the key is for, e.g. the billing system's name.")] = "cli",
) -> None:
    """Create an API key and print it. Only a hash is stored: copy it now. A key sees only its utility's
    consumers, submissions, feed and webhooks; an operator key runs the platform across utilities."""
    from serving.keys import create_key

    svc = _service()
    try:
        with svc.sessions.begin() as s:
            key = create_key(s, name, scope, None if "operator" in scope else utility)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    typer.echo(key)


@keys_app.command("list")
def keys_list(
    utility: Annotated[str | None, typer.Option(help="Only this utility's keys.")] = None,
) -> None:
    """List API keys (never their secrets): id, utility, scopes, name, created, revoked."""
    from serving.keys import list_keys

    with _service().sessions() as s:
        rows = list_keys(s, utility)
    for row in rows:
        revoked = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
        typer.echo(
            f"{row.id}  {row.utility or '(operator)':<12} {row.scopes:<24} {row.name[:30]:<30} "
            f"{row.created_at:%Y-%m-%d %H:%M}  {revoked}"
        )


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (mvk_<id>_...).")]) -> None:
    """Revoke a key. It stops working with its next request."""
    from serving.keys import revoke

    with _service().sessions.begin() as s:
        found = revoke(s, key_id.removeprefix("mvk_").split("_")[0])
    if not found:
        typer.echo(f"no key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@consumers_app.command("import")
def consumers_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="consumers.csv: consumer_number,meter_digits,meter_decimals,sanctioned_load_kw[,utility]",
            exists=True,
            dir_okay=False,
        ),
    ],
    utility: Annotated[str, typer.Option(help="The utility these consumers belong to.")] = "default",
    readings: Annotated[
        Path | None,
        typer.Option(
            help="readings.csv: consumer_number,date,reading[,meter_replaced]", exists=True, dir_okay=False
        ),
    ] = None,
) -> None:
    """Import consumers (and their verified history). Every row is checked first; any error imports nothing
    and is printed with its line and column. Streams files of millions of rows."""
    from serving.consumers import CsvImportError, import_csv
    from serving.keys import check_utility

    try:
        check_utility(utility)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    svc = _service()
    with file.open(encoding="utf-8-sig", newline="") as consumers_file:
        readings_file = readings.open(encoding="utf-8-sig", newline="") if readings else None
        try:
            result = import_csv(svc.sessions, utility, consumers_file, readings_file, svc.decision_lock)
        except CsvImportError as e:
            for line in e.errors:
                typer.echo(line, err=True)
            raise typer.Exit(1) from None
        finally:
            if readings_file:
                readings_file.close()
    typer.echo(f"imported {result.consumers} consumers, {result.readings} readings")


users_app = typer.Typer(
    help="Review UI accounts (roles: reviewer, supervisor), each in one utility.", no_args_is_help=True
)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Sign-in name.")],
    role: Annotated[str, typer.Option(help="reviewer or supervisor (audits, reopens, stats).")] = "reviewer",
    utility: Annotated[str, typer.Option(help="The utility whose queue the user works.")] = "default",
    password: Annotated[
        str | None,
        typer.Option(
            help="At least 10 characters; asked for (hidden) when left out.",
            envvar="METERVERIFY_NEW_PASSWORD",
        ),
    ] = None,
) -> None:
    """Create a review UI account. The password is stored as an argon2 hash."""
    from review_ui.auth import create_user

    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        with _service().sessions.begin() as s:
            create_user(s, username, password, role, utility)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    typer.echo(f"created {role} {username} in {utility}")
