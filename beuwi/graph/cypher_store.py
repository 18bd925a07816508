"""The catalogue logic both adapters share; each adapter only says how to run one query and map its errors."""
from __future__ import annotations

import json
import secrets
import sys
from abc import abstractmethod
from datetime import datetime, timezone
from functools import lru_cache
from typing import Sequence

from beuwi.domain import Combination, Profile, Programme, Requirements, Scheme, SubjectList, SubjectRef, requirement_ref
from beuwi.domain.programme import uncounted_subject

from . import cypher
from .checksum import Checksum
from .store import CatalogueConflict, CatalogueIncomplete, CatalogueNotFound, CatalogueVersion, GraphError, GraphStore

BATCH = 1000  # rows per UNWIND: large enough to amortise round trips, small enough for quick transactions
DELETE_BATCH = 10_000
READ_PAGE = 5000  # programmes per read
TEXT_FIELDS = ("name", "faculty", "department", "degree", "campus", "duration", "url", "description")
FLAG_FIELDS = ("full_time", "part_time", "evening")


class CypherStore(GraphStore):
    """A GraphStore over any server that runs the queries in `cypher`."""

    @abstractmethod
    def run(self, query: str, params: dict | None = None, *, write: bool = False) -> list[list]:
        """Run one query in its own transaction and return its rows; raise only GraphError subclasses."""

    def load(self, programmes: Sequence[Programme], *, source: str = "", version_id: str | None = None) -> CatalogueVersion:
        version_id = version_id or secrets.token_urlsafe(6)
        if self.run(cypher.CATALOGUE, {"id": version_id}):
            raise CatalogueConflict(f"catalogue {version_id!r} already exists")
        rows = [_properties(p, i) for i, p in enumerate(programmes)]
        checksum = Checksum()
        for row in rows:
            checksum.add({**row, "catalogue": version_id})  # the node's properties, as a reader gets them back
        created = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        self.run(cypher.CREATE_CATALOGUE, {"id": version_id, "created": created, "source": source,
                                           "programmes": len(programmes), "checksum": checksum.hexdigest()},
                 write=True)
        try:
            self._write_version(version_id, programmes, rows)
            ready = self.run(cypher.MARK_READY, {"id": version_id}, write=True)
            if not ready:
                raise CatalogueIncomplete(f"catalogue {version_id!r} was purged while it loaded")
        except BaseException:
            self._delete_nodes(version_id)
            raise
        self._written()
        return _version(ready[0][0])

    def _written(self) -> None:
        """Called after a version is loaded or deleted: an adapter whose server logs every write compacts it here."""

    def _write_version(self, version_id: str, programmes: Sequence[Programme], rows: list[dict]) -> None:
        subjects = {}
        for p in programmes:
            for ref in p.refs:
                subjects[ref.subject.key] = {"key": ref.subject.key, "name": ref.subject.name, "level": ref.subject.level}
        schemes = [(p, f"{p.id}#{i}", i, s) for p in programmes for i, s in enumerate(p.schemes)]
        uncounted = SubjectList.default().uncounted
        self._batched(cypher.CREATE_SUBJECTS, version_id, list(subjects.values()))
        self._batched(cypher.CREATE_PROGRAMMES, version_id, rows)
        self._batched(cypher.CREATE_SCHEMES, version_id, [
            {"programme": p.id, "key": key, "position": i, "csec_passes": s.requirements.csec_passes,
             "cape_passes": s.requirements.cape_passes, "cape_units": s.requirements.cape_units,
             "not_counted": [subject.key for subject in uncounted(s.requirements.not_counted)]}
            for p, key, i, s in schemes
        ])
        self._batched(cypher.CREATE_MANDATORY, version_id, [
            {"scheme": key, "subject": ref.subject.key, **_edge(ref)}
            for _, key, _, s in schemes for ref in s.requirements.mandatory
        ])
        self._batched(cypher.CREATE_COMBINATIONS, version_id, [
            {"scheme": key, "need": c.need, "position": i,
             "options": [{"subject": o.subject.key, **_edge(o)} for o in c.options]}
            for _, key, _, s in schemes for i, c in enumerate(s.requirements.combinations)
        ])

    def _batched(self, query: str, version_id: str, rows: list[dict]) -> None:
        for start in range(0, len(rows), BATCH):
            self.run(query, {"id": version_id, "rows": rows[start:start + BATCH]}, write=True)

    def activate(self, version_id: str) -> CatalogueVersion:
        rows = self.run(cypher.ACTIVATE, {"id": version_id}, write=True)
        if not rows:
            self._status(version_id)  # raises CatalogueNotFound for unknown or unfinished versions
            raise GraphError(f"catalogue {version_id!r} could not be activated")
        return _version({**rows[0][0], "active": True})

    def delete(self, version_id: str) -> None:
        if not self.run(cypher.MARK_DELETING, {"id": version_id}, write=True):
            if self._status(version_id).get("active"):  # raises CatalogueNotFound for unknown or unfinished versions
                raise CatalogueConflict(f"catalogue {version_id!r} is active; activate another one first")
            raise GraphError(f"catalogue {version_id!r} could not be deleted")
        self._delete_nodes(version_id)
        self._written()

    def purge(self, version_id: str) -> None:
        if not self.run(cypher.MARK_PURGING, {"id": version_id}, write=True):
            rows = self.run(cypher.CATALOGUE, {"id": version_id})
            if not rows:
                raise CatalogueNotFound(f"no catalogue {version_id!r}")
            raise CatalogueConflict(f"catalogue {version_id!r} is {rows[0][0].get('status')}, not unfinished")
        self._delete_nodes(version_id)
        self._written()

    def _delete_nodes(self, version_id: str) -> None:
        for label in cypher.VERSION_LABELS:
            query = cypher.DELETE_BATCH.format(label=label)
            while self.run(query, {"id": version_id, "limit": DELETE_BATCH}, write=True)[0][0]:
                pass
        self.run(cypher.DELETE_CATALOGUE, {"id": version_id}, write=True)

    def _status(self, version_id: str) -> dict:
        """The ready version's properties; CatalogueNotFound for any other."""
        rows = self.run(cypher.CATALOGUE, {"id": version_id})
        if not rows or rows[0][0].get("status") != "ready":
            raise CatalogueNotFound(f"no catalogue {version_id!r}")
        return rows[0][0]

    def versions(self) -> list[CatalogueVersion]:
        return [_version(row[0]) for row in self.run(cypher.VERSIONS)]

    def unfinished_versions(self) -> list[CatalogueVersion]:
        return [_version(row[0]) for row in self.run(cypher.UNFINISHED_VERSIONS)]

    def active_version(self) -> str | None:
        rows = self.run(cypher.ACTIVE_VERSION)
        return rows[0][0] if rows else None

    def programmes(self, version_id: str) -> list[Programme]:
        recorded = self._status(version_id)
        found, checksum = [], Checksum()
        for start in range(0, recorded["programmes"], READ_PAGE):
            for row in self.run(cypher.PROGRAMMES, {"id": version_id, "start": start, "end": start + READ_PAGE}):
                checksum.add(row[0])
                found.append(_programme(row[0]))
        self._check_complete(recorded, len(found), checksum.hexdigest())
        return found

    def _check_complete(self, recorded: dict, read: int, checksum: str) -> None:
        """CatalogueIncomplete unless the version is still ready and what was read is what was loaded."""
        version_id, expected = recorded["id"], recorded["programmes"]
        now = self.run(cypher.CATALOGUE, {"id": version_id})
        if not now or now[0][0].get("status") != "ready":
            raise CatalogueIncomplete(f"catalogue {version_id!r} was deleted while it was read "
                                      f"({read} of its {expected} programmes read)")
        if read != expected:
            raise CatalogueIncomplete(f"catalogue {version_id!r}: {read} of its {expected} programmes read")
        # Versions loaded before checksums were recorded have none: their count is all there is to check.
        if recorded.get("checksum") not in (None, checksum):
            raise CatalogueIncomplete(f"catalogue {version_id!r}: the programmes read do not match the checksum "
                                      "recorded at load")

    def eligible_ids(self, version_id: str, profile: Profile) -> list[str]:
        params = {"id": version_id, "csec": [s.key for s in profile.csec], "cape": [s.key for s in profile.whole],
                  "units": [s.key for s, _ in profile.units], "met": profile.met_keys(),
                  "gpa": -1 if profile.gpa is None else profile.gpa}
        return [row[0] for row in self.run(cypher.ELIGIBLE, params)]

    def ping(self) -> None:
        self.run(cypher.PING)


def _version(props: dict) -> CatalogueVersion:
    return CatalogueVersion(props["id"], props["created"], props.get("source", ""), props["programmes"],
                            bool(props.get("active")), props.get("status", "ready"))


def _edge(ref: SubjectRef) -> dict:
    """A reference's properties on its REQUIRES or OPTION relationship."""
    return {"ref": ref.key, "gpa": cypher.NO_GPA if ref.min_gpa is None else ref.min_gpa}


def _properties(programme: Programme, position: int) -> dict:
    props = {name: getattr(programme, name) for name in (*TEXT_FIELDS, *FLAG_FIELDS)}
    return {**props, "schemes": json.dumps([s.as_text() for s in programme.schemes], separators=(",", ":")),
            "id": programme.id, "position": position, "careers": list(programme.careers)}


def _programme(props: dict) -> Programme:
    return Programme(
        id=props["id"], careers=tuple(sys.intern(c) for c in props.get("careers") or ()), schemes=_schemes(props),
        **{name: sys.intern(props.get(name) or "") for name in TEXT_FIELDS},  # faculties, degrees... repeat
        **{name: bool(props.get(name)) for name in FLAG_FIELDS},
    )


def _schemes(props: dict) -> tuple[Scheme, ...]:
    """The schemes as written at load, or, for a version loaded before schemes, its one set of requirements."""
    if "schemes" in props:
        return _parsed_schemes(props["schemes"])
    return (Scheme(_requirements(props.get("csec_passes", 0), props.get("cape_passes", 0),
                                 props.get("mandatory") or (), props.get("combinations") or ())),)


def _parsed_schemes(text: str) -> tuple[Scheme, ...]:
    return tuple(Scheme(_requirements(s["csec_passes"], s["cape_passes"], s["mandatory"], s["combinations"],
                                      s["cape_units"], s["not_counted"]),
                        sys.intern(s["label"]), tuple(sys.intern(c) for c in s["conditions"])) for s in json.loads(text))


def _requirements(csec_passes, cape_passes, mandatory, combinations, cape_units=0, not_counted=()) -> Requirements:
    return Requirements(int(csec_passes or 0), int(cape_passes or 0), tuple(_ref(t) for t in mandatory),
                        tuple(_combination(t) for t in combinations), int(cape_units or 0),
                        tuple(_uncounted(t) for t in not_counted))


# Catalogues repeat the same few hundred references, so reading 100,000 programmes parses each text once.
@lru_cache(maxsize=65536)
def _ref(text: str):
    return requirement_ref(SubjectList.default(), text)


@lru_cache(maxsize=65536)
def _combination(text: str):
    need, options = text.split(" of ", 1)  # as written by str(Combination), validated when it was loaded
    return Combination(int(need), tuple(_ref(option.strip()) for option in options.split("|")))


@lru_cache(maxsize=4096)
def _uncounted(text: str):
    return uncounted_subject(SubjectList.default(), text)
