"""The verification API (FastAPI): ``create_app(settings)``."""

from .main import create_app

__all__ = ["create_app"]
