"""Auditing a whole installation store: read every record once, one by one (so a tampered record is
pinpointed, not fatal), check the installation aggregate, and audit each group with the pure
``mlsgroup.domain.audit.GroupAuditor``.

The store is opened with the eventsourcing application the client uses, but nothing is written:
the audit only selects records. A path without a file is refused rather than created.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterator, Optional
from uuid import UUID

import attrs

from mlsgroup.domain.audit import VIOLATION, WARNING, Finding, GroupAudit, GroupAuditor
from mlsgroup.domain.group_aggregate import GroupSnapshot
from mlsgroup.domain.group_events import GroupCreated, GroupJoined
from mlsgroup.domain.identity import installation_key_pair
from mlsgroup.domain.installation_aggregate import INSTALLATION_AGGREGATE_ID, InstallationCreated, WelcomeProcessed

from ..group_store import GroupStoreApplication
from ..persistence import StoreConfigurationError, StoreSettings, StoredDataError
from ..projecting import Record, record_reader
from .errors import NotAGroupStore, StoreNotFound, WrongKey

__all__ = ["StoreAudit", "audit_store", "Progress"]

Progress = Callable[[int, int], None]
"""Called with (events audited so far, events in the store)."""

_BATCH = 1000
_KEY_PROBES = 8


@attrs.frozen
class StoreAudit:
    """The audit of one store: its installation, every group, and findings about the store itself."""

    store: str
    inbox_id: str
    installation_id: bytes
    events: int
    groups: tuple[GroupAudit, ...]
    findings: tuple[Finding, ...]
    seconds: float

    @property
    def violations(self) -> int:
        return sum(f.severity == VIOLATION for f in self.findings) + sum(len(g.violations) for g in self.groups)

    @property
    def warnings(self) -> int:
        return sum(f.severity == WARNING for f in self.findings) + sum(len(g.warnings) for g in self.groups)

    @property
    def ok(self) -> bool:
        return self.violations == 0


def _open(path: Path, key: Optional[bytes]) -> GroupStoreApplication:
    if not path.is_file():
        raise StoreNotFound(f"no store file at {path}")
    try:
        return GroupStoreApplication.open(StoreSettings.sqlite(path, encryption_key=key))
    except StoreConfigurationError:
        raise
    except Exception as exc:  # noqa: BLE001 - sqlite3 / eventsourcing errors for a file that is no store
        raise NotAGroupStore(f"{path} is not an mlsgroup store: {exc}") from None


def _records(app: GroupStoreApplication, top: int) -> Iterator[Record]:
    """Every record up to notification ``top`` as (id, originator id, version, topic, state) tuples,
    read the way the projection runner reads them (no notification objects)."""
    read = record_reader(app.recorder, ())
    after = None
    while True:
        batch = read(after, top, _BATCH)
        if not batch:
            return
        yield from batch
        after = batch[-1][0]


def _check_key(app: GroupStoreApplication, path: Path) -> None:
    """Refuse the key when none of the first records decrypts (rather than flag every record)."""
    probes = app.recorder.select_notifications(None, _KEY_PROBES)
    if not probes:
        raise NotAGroupStore(f"{path} holds no events")
    failures = []
    for record in probes:
        try:
            app.mapper.to_domain_event(record)
            return
        except StoredDataError as exc:
            failures.append(exc)
    raise WrongKey(
        f"cannot read {path}: no record decrypts with this key (wrong key, a key for an unencrypted store, "
        f"or no key for an encrypted one): {failures[0]}"
    )


class _Reader:
    """Decodes records (``decode``: an unreadable one raises the StoredDataError that says why) and
    reads a group's snapshots."""

    def __init__(self, app: GroupStoreApplication) -> None:
        self.app = app
        self.decode = app.mapper.decode_record

    def snapshots(self, originator_id: UUID, findings: list[Finding]) -> list[GroupSnapshot]:
        store = self.app.snapshots
        if store is None:
            return []
        result = []
        for stored in store.recorder.select_events(originator_id):
            try:
                snapshot = store.mapper.to_domain_event(stored)
            except StoredDataError as exc:
                findings.append(Finding(VIOLATION, "record", stored.originator_version, None,
                                        f"the snapshot record at v{stored.originator_version} cannot be read: {exc}"))
                continue
            if isinstance(snapshot, GroupSnapshot):
                result.append(snapshot)
        return result


class _Installation:
    """What the installation aggregate says: who we are and which welcomes joined which groups."""

    def __init__(self) -> None:
        self.inbox_id = ""
        self.installation_id = b""
        self.signature_key = b""
        self.joins: dict[bytes, int] = {}
        self.findings: list[Finding] = []
        self.events = 0
        self._expected = 1

    def feed(self, version: int, event: object) -> None:
        """The installation aggregate's next record, decoded (or the error that made it unreadable)."""
        self.events += 1
        if version != self._expected:
            self.findings.append(Finding(VIOLATION, "sequence", version, None,
                                         f"installation event v{version} follows v{self._expected - 1}: events missing"))
        self._expected = version + 1
        if isinstance(event, Exception):
            self.findings.append(Finding(VIOLATION, "record", version, None,
                                         f"the installation record at v{version} cannot be read: {event}"))
        elif isinstance(event, InstallationCreated):
            self._created(event)
        elif isinstance(event, WelcomeProcessed) and event.group_id is not None and event.outcome == "Joined":
            self.joins[bytes(event.group_id)] = self.joins.get(bytes(event.group_id), 0) + 1

    def finish(self) -> None:
        if self.events == 0:
            self.findings.append(Finding(VIOLATION, "installation", None, None, "the store holds no installation aggregate"))

    def _created(self, event: InstallationCreated) -> None:
        key, installation_id = installation_key_pair(event.key_seed)
        self.inbox_id, self.installation_id, self.signature_key = event.inbox_id, bytes(event.installation_id), bytes(key)
        if installation_id != event.installation_id:
            self.findings.append(Finding(VIOLATION, "installation", event.originator_version, None,
                                         "the installation id is not the one its key seed derives"))

    def check_group(self, audit: GroupAudit, first: object) -> tuple[Finding, ...]:
        found = []
        if isinstance(first, (GroupCreated, GroupJoined)) and self.installation_id:
            if first.inbox_id != self.inbox_id or bytes(first.installation_id) != self.installation_id:
                found.append(Finding(VIOLATION, "installation", 1, None, "the group belongs to another installation"))
            if isinstance(first, GroupCreated) and bytes(first.signature_private) != self.signature_key:
                found.append(Finding(VIOLATION, "installation", 1, None, "the group was created with another signature key"))
        joins = audit.counts.get("joins", 0)
        welcomed = self.joins.get(audit.group_id, 0)
        if joins != welcomed:
            found.append(Finding(VIOLATION, "installation", None, None,
                                 f"the group records {joins} join(s) but the installation {welcomed} welcome(s) for it"))
        return tuple(found)


class _Group:
    """One group's audit under way: its auditor and the first event (which names the installation)."""

    def __init__(self, originator_id: UUID, reader: _Reader) -> None:
        self.findings: list[Finding] = []
        self.auditor = GroupAuditor(originator_id.bytes, reader.snapshots(originator_id, self.findings))
        self.first: object = None

    def feed(self, version: int, event: object) -> None:
        if isinstance(event, Exception):
            self.auditor.unreadable(version, str(event))
            return
        if self.first is None:
            self.first = event
        self.auditor.feed(event)  # type: ignore[arg-type]

    def finish(self, installation: _Installation) -> GroupAudit:
        audit = self.auditor.finish()
        extra = self.findings + list(installation.check_group(audit, self.first))
        return attrs.evolve(audit, findings=audit.findings + tuple(extra)) if extra else audit


def audit_store(path: str | Path, key: Optional[bytes], *, progress: Optional[Progress] = None) -> StoreAudit:
    """Audit every group of the SQLite store at ``path`` (StoreNotFound, WrongKey, NotAGroupStore).

    The records are read once, in the store's order (each aggregate's in version order), and each
    goes to its aggregate's audit; the progress total is the highest notification id."""
    started = time.perf_counter()
    path = Path(path)
    app = _open(path, key)
    try:
        _check_key(app, path)
        total = app.recorder.max_notification_id() or 0
        reader = _Reader(app)
        installation = _Installation()
        # Keyed by the ids' integers: UUID's own hash and equality are Python calls, two per record.
        groups: dict[int, _Group] = {}
        installation_key = INSTALLATION_AGGREGATE_ID.int
        decode = reader.decode
        done = 0
        for _, originator_id, version, topic, state in _records(app, total):
            try:
                event: object = decode(originator_id, version, topic, state)
            except StoredDataError as exc:  # an unreadable record is a finding of its aggregate's audit
                event = exc
            key = originator_id.int
            if key == installation_key:
                installation.feed(version, event)
            else:
                group = groups.get(key)
                if group is None:
                    group = groups[key] = _Group(originator_id, reader)
                group.feed(version, event)
            done += 1
            if progress is not None and done % 64 == 0:
                progress(done, max(total, done))
        installation.finish()
        audits = tuple(group.finish(installation) for group in groups.values())
        if progress is not None:
            progress(done, done)
    finally:
        app.close()
    return StoreAudit(
        store=str(path),
        inbox_id=installation.inbox_id,
        installation_id=installation.installation_id,
        events=done,
        groups=audits,
        findings=tuple(installation.findings),
        seconds=time.perf_counter() - started,
    )
