"""Read models of the XMTP group-context extensions (libxmtp spec section 4): mutable-metadata attributes,
admin and super-admin lists, the policy set and the membership map, one row per item.

Rows are rebuilt from a complete extension snapshot, which every event that changes the extensions
carries: ``GroupCreated.extensions``, ``GroupJoined.extensions`` (the welcome's epoch), another
member's ``CommitMerged.extensions`` (None when the commit left them unchanged), and our own merged
commit whose ``CommitPlan.extensions`` (recorded with ``IntentPublished``) changed them. So
``group_extension_state.known`` stays True, and the rows are the group's current extensions.

The one exception is history recorded before CommitMerged v2, whose records do not carry the new
extensions (``still_member`` None) and cannot be upcast to (the merged state is not in the record):
such a commit marks the group ``known = False`` until the next snapshot, and readers then fall back
to the group aggregate. GroupJoined v1 records are upcast exactly (their welcome determines them).

Attribute values, inbox ids and the policy set are sensitive; admin rows keep their list's order
in ``position``. Identity sequence ids are stored as
decimal text: they are uint64 and a remote commit may hold any value.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from mlsgroup.domain.extensions import (
    GROUP_MEMBERSHIP_EXTENSION_TYPE,
    GROUP_PERMISSIONS_EXTENSION_TYPE,
    MUTABLE_METADATA_EXTENSION_TYPE,
    GroupMembership,
    GroupMutableMetadata,
    GroupMutablePermissions,
)
from mlsgroup.domain.group_events import (
    CommitMerged,
    CommitRejected,
    EnvelopeProcessed,
    GroupCreated,
    GroupJoined,
    IntentFailed,
    IntentPublished,
    OwnCommitMerged,
)

from .changes import Change, Delete, Rows, Upsert
from .schema import BOOL, BYTES, INT, TEXT, Column, Table
from .view import View

__all__ = ["group_extensions_view", "ADMIN_LIST", "SUPER_ADMIN_LIST", "encode_extensions", "decode_extensions"]

ADMIN_LIST = 1
SUPER_ADMIN_LIST = 2

Extensions = tuple[tuple[int, bytes], ...]

group_extensions_view = View("extensions", version=2, tables=[
    Table("group_extension_state", [Column("group_id", BYTES), Column("known", BOOL), Column("updated_at_ns", INT)],
          key=["group_id"]),
    Table("group_attributes", [Column("group_id", BYTES), Column("name", TEXT), Column("value", TEXT, sensitive=True)],
          key=["group_id", "name"]),
    Table("group_admins", [Column("group_id", BYTES), Column("list", INT), Column("inbox_id", TEXT, sensitive=True),
                           Column("position", INT)],
          key=["group_id", "list", "inbox_id"]),
    Table("group_policies", [Column("group_id", BYTES), Column("policy_set", BYTES, sensitive=True)],
          key=["group_id"]),
    Table("group_members", [Column("group_id", BYTES), Column("inbox_id", TEXT, sensitive=True),
                            Column("sequence_id", TEXT)],
          key=["group_id", "inbox_id"]),
    # Extensions our published commit will install if it wins its epoch.
    Table("staged_extensions", [Column("intent_id", BYTES), Column("group_id", BYTES),
                                Column("extensions", BYTES, sensitive=True)], key=["intent_id"]),
])

_ITEM_TABLES = ("group_attributes", "group_admins", "group_policies", "group_members")


def encode_extensions(extensions: Iterable[tuple[int, bytes]]) -> bytes:
    """(type, data) pairs as ``type (2) || length (4) || data`` items."""
    return b"".join(kind.to_bytes(2, "big") + len(data).to_bytes(4, "big") + bytes(data) for kind, data in extensions)


def decode_extensions(blob: bytes) -> Extensions:
    items, offset = [], 0
    while offset < len(blob):
        kind = int.from_bytes(blob[offset : offset + 2], "big")
        size = int.from_bytes(blob[offset + 2 : offset + 6], "big")
        items.append((kind, bytes(blob[offset + 6 : offset + 6 + size])))
        offset += 6 + size
    return tuple(items)


def _snapshot(rows: Rows, group_id: bytes, extensions: Extensions, at_ns: int) -> list[Change]:
    """Replace every item row of the group with the content of ``extensions``."""
    changes: list[Change] = []
    for name in _ITEM_TABLES:
        key = group_extensions_view.schema.table(name).key
        changes += [Delete(name, tuple(row[column] for column in key))
                    for row in rows.find(name, {"group_id": group_id})]
    by_type = dict(extensions)
    metadata = by_type.get(MUTABLE_METADATA_EXTENSION_TYPE)
    if metadata is not None:
        mutable = GroupMutableMetadata.decode(metadata)
        changes += [Upsert("group_attributes", {"group_id": group_id, "name": name, "value": value})
                    for name, value in mutable.attributes.items()]
        for number, inboxes in ((ADMIN_LIST, mutable.admin_list), (SUPER_ADMIN_LIST, mutable.super_admin_list)):
            changes += [Upsert("group_admins", {"group_id": group_id, "list": number, "inbox_id": inbox,
                                                "position": position})
                        for position, inbox in enumerate(inboxes)]
    permissions = by_type.get(GROUP_PERMISSIONS_EXTENSION_TYPE)
    if permissions is not None:
        policy_set = GroupMutablePermissions.decode(permissions).policies.encode()
        changes.append(Upsert("group_policies", {"group_id": group_id, "policy_set": policy_set}))
    membership = by_type.get(GROUP_MEMBERSHIP_EXTENSION_TYPE)
    if membership is not None:
        changes += [Upsert("group_members", {"group_id": group_id, "inbox_id": inbox, "sequence_id": str(sequence)})
                    for inbox, sequence in GroupMembership.decode(membership).members.items()]
    changes.append(Upsert("group_extension_state", {"group_id": group_id, "known": True, "updated_at_ns": at_ns}))
    return changes


def _unknown(group_id: bytes, at_ns: int) -> Upsert:
    return Upsert("group_extension_state", {"group_id": group_id, "known": False, "updated_at_ns": at_ns})


@group_extensions_view.on(GroupCreated)
def _created(rows: Rows, event: GroupCreated) -> list[Change]:
    return _snapshot(rows, event.group_id, event.extensions, event.timestamp_ns)


@group_extensions_view.on(GroupJoined)
def _joined(rows: Rows, event: GroupJoined) -> list[Change]:
    return _snapshot(rows, event.group_id, event.extensions, event.timestamp_ns)


@group_extensions_view.on(IntentPublished)
def _published(rows: Rows, event: IntentPublished) -> list[Change]:
    extensions: Optional[Extensions] = event.plan.extensions if event.plan is not None else None
    if extensions is None:
        return [Delete("staged_extensions", (event.intent_id,))]
    return [Upsert("staged_extensions", {
        "intent_id": event.intent_id, "group_id": event.originator_id.bytes,
        "extensions": encode_extensions(extensions),
    })]


@group_extensions_view.on(EnvelopeProcessed)
def _envelope(rows: Rows, event: EnvelopeProcessed) -> list[Any]:
    outcome = event.outcome
    group_id = event.originator_id.bytes
    if isinstance(outcome, OwnCommitMerged):
        staged = rows.get("staged_extensions", (outcome.intent_id,))
        if staged is None:
            return []  # the commit left the extensions as they were
        return [Delete("staged_extensions", (outcome.intent_id,)),
                *_snapshot(rows, group_id, decode_extensions(staged["extensions"]), event.timestamp_ns)]
    if isinstance(outcome, CommitMerged):
        if outcome.still_member is None:  # recorded before v2: the new extensions are not known
            return [_unknown(group_id, event.timestamp_ns)]
        if outcome.extensions is None:
            return []
        return _snapshot(rows, group_id, outcome.extensions, event.timestamp_ns)
    if isinstance(outcome, CommitRejected) and outcome.intent_id is not None:
        return [Delete("staged_extensions", (outcome.intent_id,))]
    return []


@group_extensions_view.on(IntentFailed)
def _failed(rows: Rows, event: IntentFailed) -> list[Change]:
    return [Delete("staged_extensions", (event.intent_id,))]
