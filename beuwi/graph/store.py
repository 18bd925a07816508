"""The graph store port: catalogue versions of programmes in a graph database.

Adapters raise only the exceptions defined here, so callers never see a driver's own errors.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

from beuwi.domain import Profile, Programme


class GraphError(Exception):
    """Base of every error a graph store raises."""


class GraphUnavailable(GraphError):
    """The graph server cannot be reached or did not answer in time."""


class StoreClosed(GraphUnavailable):
    """The store was closed: nothing will answer through it again."""


class CatalogueNotFound(GraphError, LookupError):
    """No catalogue version has that id."""


class CatalogueConflict(GraphError):
    """The operation is not allowed in the version's current state (e.g. deleting the active version)."""


class CatalogueIncomplete(GraphError):
    """A version read back is not the one loaded: programmes missing or changed, or it was deleted meanwhile."""


@dataclass(frozen=True)
class CatalogueVersion:
    id: str
    created: str  # UTC ISO 8601
    source: str
    programmes: int
    active: bool
    status: str = "ready"  # or "loading", "deleting": unfinished, listed only by unfinished_versions()


class GraphStore(ABC):
    """Catalogue versions in one graph database: load inactive, activate atomically, read the active one."""

    @abstractmethod
    def create_indexes(self) -> None:
        """Create the indexes the queries rely on, keeping those that exist; writers call it once at start."""

    @abstractmethod
    def load(self, programmes: Sequence[Programme], *, source: str = "", version_id: str | None = None) -> CatalogueVersion:
        """Store a new, inactive version; on failure nothing of it remains. The active version is never touched."""

    @abstractmethod
    def activate(self, version_id: str) -> CatalogueVersion:
        """Make this the only active version in one atomic write."""

    @abstractmethod
    def delete(self, version_id: str) -> None:
        """Remove the version and all its nodes; CatalogueConflict for the active one.

        The version is marked first, in one write, so that from then on no reader starts or finishes on it."""

    @abstractmethod
    def versions(self) -> list[CatalogueVersion]:
        """Every complete version, newest first."""

    @abstractmethod
    def unfinished_versions(self) -> list[CatalogueVersion]:
        """Every version still loading or deleting, oldest first: being written or deleted now, or left half-done by
        a crash (never listed, activated or read)."""

    @abstractmethod
    def purge(self, version_id: str) -> None:
        """Remove an unfinished version and all its nodes (CatalogueNotFound if there is none, CatalogueConflict for a
        ready one). Marked first, in one write, so that a loader still writing it can never make it ready."""

    @abstractmethod
    def active_version(self) -> str | None:
        """The id of the active version, or None."""

    @abstractmethod
    def programmes(self, version_id: str) -> list[Programme]:
        """Every programme of a version, in catalogue order; CatalogueIncomplete unless what was read matches the
        programme count and checksum recorded at load and the version was still ready after the last page."""

    @abstractmethod
    def eligible_ids(self, version_id: str, profile: Profile) -> list[str]:
        """Ids of the programmes the profile is eligible for, in catalogue order, in one query."""

    @abstractmethod
    def ping(self) -> None:
        """Raise GraphUnavailable unless the server answers."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
