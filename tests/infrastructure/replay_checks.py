"""Replay checks shared by the group-store properties and the client machine (ARCHITECTURE 5:
replaying a store reproduces the live state; snapshot + tail equals full replay; views rebuilt
from scratch equal the live ones; a reopened client answers every query as before).

Each check raises AssertionError naming the client, the group and the first field that differs,
so a failing hypothesis example reads without a debugger.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from eventsourcing.popo import POPOAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from mlsgroup.domain.group_aggregate import GroupAggregateState, GroupSnapshot, group_uuid, project
from mlsgroup.infrastructure import Client
from mlsgroup.projections import group_views, replay

__all__ = [
    "check_group_replays",
    "check_prefix_replays",
    "check_same_state",
    "check_store_replays",
    "check_views_rebuild",
    "check_views_replay",
    "client_answers",
    "reopen_and_compare",
    "snapshot_count",
    "snapshot_rows",
    "snapshot_versions",
    "state_summary",
]


def state_summary(state: GroupAggregateState | None) -> tuple[tuple[str, object], ...] | None:
    """The fields a reader checks first: version, MLS epoch and authenticator, members, extensions, cursor."""
    if state is None:
        return None
    mls = state.mls
    return (
        ("version", state.version),
        ("epoch", mls.epoch),
        ("epoch_authenticator", bytes(mls.epoch_authenticator).hex()),
        ("active", state.is_active),
        ("members", tuple(sorted(state.xmtp.leaves.items()))),
        ("extensions", hashlib.sha256(mls.encoded_group_context).hexdigest()[:16]),
        ("cursor", state.cursor),
        ("membership_state", state.membership_state),
        ("consent_state", state.consent_state),
        ("intents", tuple((bytes(i.intent_id).hex()[:8], i.state) for i in state.intents)),
        ("pending_leavers", state.pending_leavers),
        ("last_message_ns", state.last_message_ns),
        ("rotated_at_ns", state.rotated_at_ns),
    )


def check_same_state(what: str, expected: GroupAggregateState | None, actual: GroupAggregateState | None) -> None:
    """Equal aggregate states (the MLS state compared by its full encoding), or a readable difference."""
    if expected == actual:
        return
    left, right = state_summary(expected), state_summary(actual)
    if left is None or right is None:
        raise AssertionError(f"{what}: one state is missing: expected {left!r}, got {right!r}")
    for (name, a), (_, b) in zip(left, right):
        if a != b:
            raise AssertionError(f"{what}: {name} differs: expected {a!r}, got {b!r}")
    if expected.mls.encode() != actual.mls.encode():
        raise AssertionError(f"{what}: the MLS state encodings differ (secrets, tree or transcript)")
    raise AssertionError(f"{what}: states differ: expected {expected!r}, got {actual!r}")


def check_group_replays(who: str, client: Any, group_id: bytes) -> GroupAggregateState:
    """The group's full replay and its snapshot + tail both equal the client's live state (returned),
    and the store holds only the group's latest snapshot (one, once the version reached the interval)."""
    store = client.group_store
    live = client.group(group_id).state()
    what = f"{who} group {bytes(group_id).hex()[:8]}"
    check_same_state(f"{what} full replay", live, store.replay(group_id))
    check_same_state(f"{what} snapshot + tail", live, store.replay(group_id, use_snapshots=True))
    versions = snapshot_versions(client, group_id)
    expected = 1 if store.app.snapshots is not None and live.version >= store.snapshot_interval else 0
    if len(versions) != expected or any(v > live.version for v in versions):
        raise AssertionError(
            f"{what}: stored snapshots at versions {versions}, expected {expected} at or below {live.version}"
        )
    return live


def check_store_replays(who: str, client: Any) -> int:
    """``check_group_replays`` for every group of the client's store; returns how many there are."""
    group_ids = client.group_store.group_ids()
    for group_id in group_ids:
        check_group_replays(who, client, group_id)
    return len(group_ids)


def check_prefix_replays(who: str, client: Any, group_id: bytes) -> int:
    """At every version v of the group, snapshot + tail up to v equals the fold of the first v events.

    The store keeps only the latest snapshot, so the check takes the others itself: at every multiple
    of the store's ``snapshot_interval`` it writes the prefix state as a snapshot record and reads it
    back through the store's mapper (transcoding, compression, cipher), then folds the tail onto it at
    each version up to the next multiple (tails of 0 to interval - 1 events). The store's own
    ``repository.get`` at v must agree too, and its one stored snapshot must equal the prefix state at
    its version. Returns the number of versions checked.
    """
    store = client.group_store
    mapper = store.app.mapper
    interval = store.snapshot_interval
    events = store.events(group_id)
    aggregate_id = events[0].originator_id
    what = f"{who} group {bytes(group_id).hex()[:8]}"
    stored = {s.originator_version: s for s in _stored_snapshots(client, aggregate_id)}
    state: GroupAggregateState | None = None
    snapshot: GroupSnapshot | None = None
    for position, event in enumerate(events, start=1):
        state = project(state, [event])
        if position % interval == 0:
            snapshot = mapper.to_domain_event(mapper.to_stored_event(GroupSnapshot.take(state)))
        if snapshot is not None:
            taken = snapshot.originator_version
            check_same_state(
                f"{what} snapshot at {taken} + tail to version {position}",
                state,
                project(None, [snapshot, *events[taken:position]]),
            )
        loaded = store.app.repository.get(aggregate_id, version=position, projector_func=project)
        check_same_state(f"{what} the store at version {position}", state, loaded)
        if position in stored:
            check_same_state(f"{what} the stored snapshot at {position}", state, project(None, [stored.pop(position)]))
    if stored:
        raise AssertionError(f"{what}: stored snapshots beyond the events, at versions {sorted(stored)}")
    return len(events)


def _stored_snapshots(client: Any, aggregate_id: UUID) -> list[GroupSnapshot]:
    snapshots = client.group_store.app.snapshots
    return [] if snapshots is None else list(snapshots.get(aggregate_id))


def snapshot_versions(client: Any, group_id: bytes) -> list[int]:
    """The versions of the group's snapshots the store holds, oldest first."""
    return [s.originator_version for s in _stored_snapshots(client, group_uuid(group_id))]


def snapshot_count(client: Any, group_id: bytes) -> int:
    return len(snapshot_versions(client, group_id))


def snapshot_rows(app: Any) -> list[tuple[UUID, int]]:
    """Every (aggregate id, version) row of an application's snapshot table, read from the backend
    itself (all aggregates at once), sorted."""
    recorder = app.snapshots.recorder
    if isinstance(recorder, POPOAggregateRecorder):
        listed = [(UUID(i), v) for i, positions in recorder._stored_events_index.items() for v in positions]
        if len(listed) != len(recorder._stored_events):
            raise AssertionError(f"{len(recorder._stored_events)} records held, {len(listed)} indexed")
        return sorted(listed)
    if isinstance(recorder, SQLiteAggregateRecorder):
        statement = f"SELECT originator_id, originator_version FROM {recorder.events_table_name}"
    else:
        from psycopg.sql import SQL, Identifier

        statement = SQL("SELECT originator_id, originator_version FROM {}.{}").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
        )
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(statement)
        rows = cursor.fetchall()
    return sorted((UUID(str(r["originator_id"])), int(r["originator_version"])) for r in rows)


def check_views_replay(who: str, client: Any) -> None:
    """The client's durable views, caught up incrementally since the store was created or opened,
    equal the pure fold of its stored events from an empty view."""
    expected = replay(group_views, client.group_store.stored_events())
    _same_tables(f"{who}: live views vs the pure replay of the stored events", expected, client.views.dump())


def check_views_rebuild(who: str, client: Any) -> None:
    """``check_views_replay``, then the durable views rebuilt from scratch on their backend equal them."""
    check_views_replay(who, client)
    views = client.views
    live = views.dump()
    views.rebuild()
    _same_tables(f"{who}: views rebuilt from scratch vs the live views", live, views.dump())


def _same_tables(what: str, expected: dict[str, Any], actual: dict[str, Any]) -> None:
    if expected == actual:
        return
    for table in sorted(set(expected) | set(actual)):
        left, right = expected.get(table, {}), actual.get(table, {})
        if left != right:
            missing = {k: left[k] for k in left.keys() - right.keys()}
            extra = {k: right[k] for k in right.keys() - left.keys()}
            changed = {k: (left[k], right[k]) for k in left.keys() & right.keys() if left[k] != right[k]}
            raise AssertionError(f"{what}: table {table} differs; missing {missing!r}, extra {extra!r}, changed {changed!r}")
    raise AssertionError(f"{what}: the views differ")


def _message(message: Any) -> tuple[object, ...]:
    return (
        bytes(message.id),
        bytes(message.group_id),
        message.sender_inbox_id,
        bytes(message.sender_installation_id),
        bytes(message.content),
        message.content_type,
        message.kind,
        message.sent_at_ns,
        message.delivery_status,
        message.group_updated,
    )


def _group_answers(group: Any) -> tuple[object, ...]:
    active = group.is_active
    return (
        bytes(group.group_id),
        group.conversation_type,
        group.epoch,
        bytes(group.epoch_authenticator),
        active,
        group.membership_state,
        group.creator_inbox_id,
        group.dm_peer_inbox_id,
        tuple(sorted((m.inbox_id, tuple(sorted(m.installation_ids)), m.permission_level) for m in group.members())),
        (group.name, group.description, group.image_url_square, group.app_data),
        (tuple(sorted(group.admins())), tuple(sorted(group.super_admins()))),
        group.permissions(),
        tuple(_message(m) for m in group.messages()),
    )


def reopen_and_compare(who: str, net: Any, client: Any, **open_arguments: Any) -> Any:
    """Close ``client`` and ``Client.open`` its store again (``open_arguments``: ``store=``,
    ``encryption_key=``, ``snapshot_interval=``); the reopened client must hold the same group
    states, answer every query the same, replay its store and equal its rebuilt views. Returns it."""
    answers = client_answers(client)
    states = {bytes(g): client.group(g).state() for g in client.group_store.group_ids()}
    client.close()
    reopened = Client.open(net, **open_arguments)
    who = f"{who} after Client.open"
    for group_id, state in states.items():
        check_same_state(f"{who} group {group_id.hex()[:8]}", state, reopened.group(group_id).state())
    listed = {bytes(g) for g in reopened.group_store.group_ids()}
    if listed != set(states):
        raise AssertionError(f"{who}: lists groups {sorted(g.hex() for g in listed)}, not {sorted(g.hex() for g in states)}")
    after = client_answers(reopened)
    if after != answers:
        raise AssertionError(f"{who}: query answers differ:\nbefore {answers!r}\nafter  {after!r}")
    check_store_replays(who, reopened)
    check_views_rebuild(who, reopened)
    return reopened


def client_answers(client: Any) -> tuple[object, ...]:
    """What the public query methods say: groups() (order included) and, per group, its standing,
    MLS epoch and authenticator, members, metadata, admin lists, permissions and messages."""
    return (
        client.inbox_id,
        bytes(client.installation_id),
        tuple(_group_answers(group) for group in client.groups()),
    )
