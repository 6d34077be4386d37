"""``meterverify serve | worker | db | keys | consumers``: running and administering the service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

db_app = typer.Typer(help="The service's database.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (scopes: billing, reviewer, analyst, admin).", no_args_is_help=True)
consumers_app = typer.Typer(help="Consumers and their verified reading history.", no_args_is_help=True)


def _service():
    from meterverify.settings import get_settings
    from serving.service import Service

    return Service.from_settings(get_settings())


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

    from meterverify.settings import get_settings
    from serving.api import create_app
    from serving.database import upgrade

    settings = get_settings()
    svc = _service()
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
        from serving.demo import seed

        d = seed(svc)
        typer.echo(
            f"demo consumers: {', '.join(n for _, n, _ in d.photos)}; their photos in {Path(d.photos[0][0]).parent}"
        )
        typer.echo(f"demo billing key:  {d.billing_key}")
        typer.echo(f"demo admin key:    {d.admin_key}")
        typer.echo(f"demo reviewer key: {d.reviewer_key}")
        path, number, value = d.photos[0]
        typer.echo(
            f"try:  curl -H 'Authorization: Bearer {d.billing_key}' -H 'Idempotency-Key: demo-1' "
            f"-F 'photo=@{path};type=image/jpeg' -F consumer_number={number} -F typed_reading={value} "
            f"{url}/v1/submissions"
        )
    typer.echo(f"API: {url}/v1   docs: {url}/docs   health: {url}/readyz   metrics: {url}/metrics")
    uvicorn.run(create_app(settings, service=svc), host=host, port=port, log_level="info")


def worker(
    concurrency: Annotated[int, typer.Option(help="Processes in this worker (one job each at a time).")] = 1,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, solo or threads.")] = "prefork",
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "INFO",
    name: Annotated[
        str | None, typer.Option(help="Worker name, unique per host (default: meterverify-<pid>@<host>).")
    ] = None,
    metrics_port: Annotated[
        int, typer.Option(help="Serve Prometheus metrics (read latency, decisions) on this port; 0: off.")
    ] = 0,
) -> None:
    """Run a Celery worker: fetches photos, reads them, decides, and delivers the events.

    Needs METERVERIFY_BROKER_URL, METERVERIFY_DATABASE_URL and the S3 settings (as `serve`). Start as many as
    the load needs, on any host; a worker that dies mid-job leaves it to another.
    """
    from meterverify.settings import get_settings
    from serving.tasks import celery_app

    settings = get_settings()
    if settings.embedded_broker:
        raise typer.BadParameter(
            "no broker configured (METERVERIFY_BROKER_URL); `meterverify serve` runs tasks itself"
        )
    import os

    if metrics_port:  # with --pool solo or threads the jobs run in this process, so its metrics are theirs
        from prometheus_client import start_http_server

        from serving.metrics import REGISTRY

        start_http_server(metrics_port, registry=REGISTRY)
    celery_app.conf.broker_url = settings.broker_url
    name = name or f"meterverify-{os.getpid()}@%h"
    celery_app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--pool={pool}",
            f"--loglevel={loglevel}",
            f"--hostname={name}",
            "-Q",
            settings.task_queue,
            "--without-gossip",
            "--without-mingle",
        ]
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (Alembic migrations). Safe to run again."""
    from meterverify.settings import get_settings
    from serving.database import make_engine, upgrade

    engine = make_engine(get_settings().sqlalchemy_url)
    upgrade(engine)
    typer.echo(f"database {engine.url.render_as_string(hide_password=True)} is up to date")


@keys_app.command("create")
def keys_create(
    scope: Annotated[
        list[str], typer.Option("--scope", help="billing, reviewer, analyst or admin (repeatable).")
    ],
    name: Annotated[str, typer.Option(help="Who the key is for, e.g. the billing system's name.")] = "cli",
) -> None:
    """Create an API key and print it. Only a hash is stored: copy it now."""
    from serving.keys import create_key

    svc = _service()
    try:
        with svc.sessions.begin() as s:
            key = create_key(s, name, scope)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    typer.echo(key)


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
    readings: Annotated[
        Path | None,
        typer.Option(
            help="readings.csv: consumer_number,date,reading[,meter_replaced]", exists=True, dir_okay=False
        ),
    ] = None,
) -> None:
    """Import consumers (and their verified history). All rows or none; errors name the line and column."""
    from serving.consumers import CsvImportError, csv_text, import_csv

    svc = _service()
    try:
        consumers_csv = csv_text(file.read_bytes(), file.name)
        readings_csv = csv_text(readings.read_bytes(), readings.name) if readings else None
        with svc.sessions.begin() as s:
            result = import_csv(s, consumers_csv, readings_csv)
    except CsvImportError as e:
        for line in e.errors:
            typer.echo(line, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"imported {result.consumers} consumers, {result.readings} readings")
