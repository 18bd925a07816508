"""The admin app (CSV uploads, activation, rollback): a separate Flask app from the read-only engine."""
from .app import create_app

__all__ = ["create_app"]
