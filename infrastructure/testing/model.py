"""A naive model of XMTP groups (libxmtp semantics sections 1-8) for stateful tests: plain sets and
lists, no cryptography, no MLS.

Each group keeps a log of what its topic carries (commits with the state after them, application
messages, leave requests) and, per member inbox, how far into that log its local copy has
processed. What a member sees is derived from the log: the state after the last commit it
processed, and the messages it processed while it held that epoch's keys. Policies use a
four-word vocabulary (``allow``, ``deny``, ``admin`` = admin or super admin, ``super``).
"""

from __future__ import annotations

import enum
from typing import Iterable, Mapping, NamedTuple

import attrs

from mlsgroup.domain import MetadataField, PermissionPolicyOption, PermissionUpdateType, Preset

__all__ = [
    "ALLOW",
    "DENY",
    "ADMIN",
    "SUPER",
    "Kind",
    "Snapshot",
    "CommitEntry",
    "Change",
    "MessageEntry",
    "LeaveEntry",
    "LocalCopy",
    "GroupModel",
    "preset_policies",
    "DM_POLICIES",
    "option_word",
    "policy_key",
]

ALLOW, DENY, ADMIN, SUPER = "allow", "deny", "admin", "super"

ADD_MEMBER, REMOVE_MEMBER, ADD_ADMIN, REMOVE_ADMIN = "add_member", "remove_member", "add_admin", "remove_admin"
_EDITABLE = (MetadataField.GROUP_NAME, MetadataField.DESCRIPTION, MetadataField.GROUP_IMAGE_URL_SQUARE, MetadataField.APP_DATA)


class Kind(enum.Enum):
    """The two conversation types the model knows."""

    GROUP = "group"
    DM = "dm"


def preset_policies(preset: Preset) -> dict[str, str]:
    """The policy words of a preset, read from libxmtp's table (spec section 4), not from the code."""
    if preset is Preset.DM:
        return dict(DM_POLICIES)
    ordinary = ALLOW if preset is Preset.DEFAULT else ADMIN
    policies = {
        ADD_MEMBER: ordinary,
        REMOVE_MEMBER: ADMIN,
        ADD_ADMIN: SUPER,
        REMOVE_ADMIN: SUPER,
    }
    for field in _EDITABLE:
        policies[field.value] = ordinary
    return policies


DM_POLICIES: Mapping[str, str] = {
    ADD_MEMBER: DENY,
    REMOVE_MEMBER: DENY,
    ADD_ADMIN: DENY,
    REMOVE_ADMIN: DENY,
    **{field.value: ALLOW for field in _EDITABLE},
}

_OPTION_WORDS = {
    PermissionPolicyOption.ALLOW: ALLOW,
    PermissionPolicyOption.DENY: DENY,
    PermissionPolicyOption.ADMIN_ONLY: ADMIN,
    PermissionPolicyOption.SUPER_ADMIN_ONLY: SUPER,
}
_UPDATE_KEYS = {
    PermissionUpdateType.ADD_MEMBER: ADD_MEMBER,
    PermissionUpdateType.REMOVE_MEMBER: REMOVE_MEMBER,
    PermissionUpdateType.ADD_ADMIN: ADD_ADMIN,
    PermissionUpdateType.REMOVE_ADMIN: REMOVE_ADMIN,
}


def policy_key(update_type: PermissionUpdateType, field: MetadataField | None) -> str:
    """The model's key for the policy an update replaces (UPDATE_METADATA needs a field)."""
    if update_type is PermissionUpdateType.UPDATE_METADATA:
        if field is None:
            raise ValueError("UPDATE_METADATA needs a metadata field")
        return field.value
    return _UPDATE_KEYS[update_type]


def option_word(update_type: PermissionUpdateType, option: PermissionPolicyOption) -> str:
    """The word an option installs; admin-list policies have no plain Allow (it means super admin)."""
    word = _OPTION_WORDS[option]
    if word == ALLOW and update_type in (PermissionUpdateType.ADD_ADMIN, PermissionUpdateType.REMOVE_ADMIN):
        return SUPER
    return word


@attrs.frozen
class Snapshot:
    """The agreed state of a group at one epoch."""

    epoch: int
    members: frozenset[str]
    admins: frozenset[str] = frozenset()
    super_admins: frozenset[str] = frozenset()
    metadata: Mapping[str, str] = attrs.field(factory=dict, eq=True)
    policies: Mapping[str, str] = attrs.field(factory=dict, eq=True)

    def allows(self, key: str, actor: str) -> bool:
        """Whether the policy ``key`` lets ``actor`` act (being the creator grants nothing)."""
        word = self.policies.get(key, ADMIN)
        if word == ALLOW:
            return True
        if word == ADMIN:
            return actor in self.admins or actor in self.super_admins
        if word == SUPER:
            return actor in self.super_admins
        return False

    def evolve(self, **changes: object) -> Snapshot:
        """The next epoch's state with ``changes`` applied."""
        return attrs.evolve(self, epoch=self.epoch + 1, **changes)


@attrs.frozen
class CommitEntry:
    """A commit on the topic by ``by``, the state before it and the state it produced."""

    snapshot: Snapshot
    before: Snapshot | None = None
    by: str = ""

    def change(self) -> Change | None:
        """What the commit's GroupUpdated transcript reports, None when it writes none (key updates,
        permission-only changes)."""
        old, new = self.before, self.snapshot
        if old is None:
            return None
        fields = tuple(
            (key, old.metadata.get(key), new.metadata.get(key))
            for key in sorted(set(old.metadata) | set(new.metadata))
            if old.metadata.get(key) != new.metadata.get(key)
        )
        change = Change(
            self.by,
            tuple(sorted(new.members - old.members)),
            tuple(sorted(old.members - new.members)),
            fields,
            tuple(sorted(new.admins - old.admins)),
            tuple(sorted(old.admins - new.admins)),
            tuple(sorted(new.super_admins - old.super_admins)),
            tuple(sorted(old.super_admins - new.super_admins)),
        )
        return change if any(change[1:]) else None


class Change(NamedTuple):
    """A transcript in comparable form: inbox lists sorted, metadata changes as (field, old, new)."""

    initiated_by: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    metadata: tuple[tuple[str, str | None, str | None], ...]
    added_admins: tuple[str, ...]
    removed_admins: tuple[str, ...]
    added_super_admins: tuple[str, ...]
    removed_super_admins: tuple[str, ...]


@attrs.frozen
class MessageEntry:
    """An application message on the topic, sent at ``epoch``."""

    sender: str
    content: bytes
    message_id: bytes
    epoch: int


@attrs.frozen
class LeaveEntry:
    """A leave request (an application message) from ``inbox``."""

    inbox: str
    epoch: int


Entry = CommitEntry | MessageEntry | LeaveEntry


@attrs.define
class LocalCopy:
    """One member inbox's local copy: the log ranges it processed and whether it saw its own removal."""

    ranges: list[list[int]] = attrs.field(factory=list)
    inactive: bool = False

    @property
    def position(self) -> int:
        """How many log entries this copy has processed (or skipped past)."""
        return self.ranges[-1][1]

    def processed(self, index: int) -> bool:
        return any(start <= index < stop for start, stop in self.ranges)


class GroupModel:
    """One group (or DM) as the naive model sees it."""

    def __init__(self, group_id: bytes, kind: Kind, creator: str, preset: Preset, name: str = "") -> None:
        self.group_id = group_id
        self.kind = kind
        self.creator = creator
        policies = preset_policies(Preset.DM if kind is Kind.DM else preset)
        super_admins = frozenset() if kind is Kind.DM else frozenset({creator})
        first = Snapshot(0, frozenset({creator}), frozenset(), super_admins, {MetadataField.GROUP_NAME.value: name}, policies)
        self.log: list[Entry] = [CommitEntry(first)]
        self.locals: dict[str, LocalCopy] = {creator: LocalCopy([[0, 1]])}
        self.pending_welcomes: dict[str, list[int]] = {}
        self.pending_leavers: set[str] = set()
        # Members whose leaf key counts as fresh: the creator, and anyone whose non-message intent was
        # queued since it joined; the others rotate their key before their first message (libxmtp 6).
        self.rotated: set[str] = {creator}

    # -- the truth -------------------------------------------------------------------------------
    @property
    def latest(self) -> Snapshot:
        return self.snapshot_at(len(self.log))

    def snapshot_at(self, position: int) -> Snapshot:
        """The state after the last commit among the first ``position`` log entries."""
        for entry in reversed(self.log[:position]):
            if isinstance(entry, CommitEntry):
                return entry.snapshot
        raise ValueError("position 0 has no state")

    def snapshot_of_epoch(self, epoch: int) -> Snapshot:
        for entry in self.log:
            if isinstance(entry, CommitEntry) and entry.snapshot.epoch == epoch:
                return entry.snapshot
        raise KeyError(epoch)

    def is_member(self, inbox: str) -> bool:
        return inbox in self.latest.members

    # -- local copies ----------------------------------------------------------------------------
    def local(self, inbox: str) -> LocalCopy | None:
        return self.locals.get(inbox)

    def view(self, inbox: str) -> Snapshot:
        """What ``inbox``'s local copy holds (it must have one)."""
        return self.snapshot_at(self.locals[inbox].position)

    def is_current(self, inbox: str) -> bool:
        """The inbox has an active local copy that processed the whole log."""
        copy = self.locals.get(inbox)
        return copy is not None and not copy.inactive and copy.position == len(self.log)

    def can_act(self, inbox: str) -> bool:
        """An active local copy of a member in the truth (possibly behind)."""
        copy = self.locals.get(inbox)
        return copy is not None and not copy.inactive and self.is_member(inbox) and not self.pending_welcomes.get(inbox)

    def catch_up(self, inbox: str) -> None:
        """``inbox``'s copy processes the rest of the log; it turns inactive if it is no longer a member."""
        copy = self.locals[inbox]
        if copy.inactive:
            return
        copy.ranges[-1][1] = len(self.log)
        if inbox not in self.latest.members:
            copy.inactive = True

    def stop_at_epoch(self, inbox: str, epoch: int) -> None:
        """``inbox``'s copy has processed the log up to the commit that made ``epoch`` (no further)."""
        for index, entry in enumerate(self.log):
            if isinstance(entry, CommitEntry) and entry.snapshot.epoch == epoch:
                self.locals[inbox].ranges[-1][1] = index + 1
                return
        raise KeyError(epoch)

    def join(self, inbox: str) -> None:
        """``inbox`` processes its oldest pending welcome: its copy starts right after that add commit."""
        index = self.pending_welcomes[inbox].pop(0)
        if not self.pending_welcomes[inbox]:
            del self.pending_welcomes[inbox]
        copy = self.locals.get(inbox)
        if copy is None:
            self.locals[inbox] = LocalCopy([[index, index + 1]])
        else:
            copy.ranges.append([index, index + 1])
            copy.inactive = False

    # -- changes -------------------------------------------------------------------------------
    def commit(self, *, by: str, **changes: object) -> Snapshot:
        """Append ``by``'s commit that produces the next epoch with ``changes``; returns its state."""
        before = self.latest
        snapshot = before.evolve(**changes)
        self.log.append(CommitEntry(snapshot, before, by))
        return snapshot

    def add(self, inboxes: Iterable[str], *, by: str) -> None:
        added = frozenset(inboxes) - self.latest.members
        self.commit(by=by, members=self.latest.members | added)
        index = len(self.log) - 1
        for inbox in added:
            self.pending_welcomes.setdefault(inbox, []).append(index)
            self.rotated.discard(inbox)

    def remove(self, inboxes: Iterable[str], *, by: str) -> None:
        removed = frozenset(inboxes)
        self.commit(by=by, members=self.latest.members - removed)
        self.pending_leavers -= removed

    def send(self, sender: str, content: bytes, message_id: bytes) -> None:
        self.log.append(MessageEntry(sender, content, message_id, self.latest.epoch))

    def request_leave(self, inbox: str) -> None:
        self.log.append(LeaveEntry(inbox, self.latest.epoch))
        self.pending_leavers.add(inbox)

    # -- what members see ------------------------------------------------------------------------
    def visible_messages(self, inbox: str) -> list[MessageEntry]:
        """Messages ``inbox``'s copy decrypted: processed while it was a member holding that epoch."""
        copy = self.locals.get(inbox)
        if copy is None:
            return []
        seen = []
        for index, entry in enumerate(self.log):
            if isinstance(entry, MessageEntry) and copy.processed(index):
                if entry.sender == inbox or inbox in self.snapshot_of_epoch(entry.epoch).members:
                    seen.append(entry)
        return seen

    def transcripts(self, inbox: str) -> list[tuple[Change, tuple[str, ...]]]:
        """(change, inboxes listed as left) of each transcript-writing commit ``inbox``'s copy processed
        by syncing (not the one that welcomed it); removed inboxes whose leave request this copy had
        processed, and no removal since, are reported as left instead of removed."""
        copy = self.locals.get(inbox)
        if copy is None:
            return []
        starts = {start for start, _ in copy.ranges}
        result = []
        for index, entry in enumerate(self.log):
            if not isinstance(entry, CommitEntry) or index in starts or not copy.processed(index):
                continue
            if entry.before is None or inbox not in entry.before.members:
                continue  # after its removal a copy cannot read the group's commits
            change = entry.change()
            if change is None:
                continue
            left = tuple(x for x in change.removed if self._asked_to_leave(copy, x, index))
            result.append((change, left))
        return result

    def _asked_to_leave(self, copy: LocalCopy, inbox: str, commit_index: int) -> bool:
        for index in range(commit_index - 1, -1, -1):
            entry = self.log[index]
            if isinstance(entry, LeaveEntry) and entry.inbox == inbox:
                return copy.processed(index)
            if isinstance(entry, CommitEntry) and entry.before is not None and inbox in entry.before.members - entry.snapshot.members:
                return False
        return False

    def messages(self) -> list[MessageEntry]:
        return [entry for entry in self.log if isinstance(entry, MessageEntry)]

    def __repr__(self) -> str:
        return f"GroupModel(group_id={self.group_id!r}, kind={self.kind}, epoch={self.latest.epoch})"
