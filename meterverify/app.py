"""The whole service as ``meterverify serve`` runs it: the verification API with the review UI mounted."""

from __future__ import annotations

from fastapi import FastAPI

import review_ui
from serving import api
from serving.config import Settings
from serving.service import Service


def create_app(settings: Settings | None = None, service: Service | None = None) -> FastAPI:
    return api.create_app(settings, service, extensions=(review_ui.mount,))
