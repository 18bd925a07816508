"""The programme engine: a stateless JSON API over the active catalogue version."""
from .app import create_app

__all__ = ["create_app"]
