"""A store whose events were edited is flagged: damaged bytes, a changed event re-encrypted with the
right key (a received message's content: its signature no longer verifies; its sender: the rebuilt
outcome differs), a forged verdict on a rejected commit, missing events."""

from __future__ import annotations

import json
import sqlite3
from uuid import UUID

import attrs

from mlsgroup.domain.group_events import CommitMerged, CommitRejected, EnvelopeProcessed, MessageReceived
from mlsgroup.infrastructure.audit import audit_store
from mlsgroup.infrastructure.cli import main

from .stores import delete_event, events, flip_byte, rewrite_event


def _version_of(history, name: str, outcome_type: type) -> int:
    for event in events(history.path(name), history.keys[name], history.group_id):
        if isinstance(event, EnvelopeProcessed) and isinstance(event.outcome, outcome_type):
            return event.originator_version
    raise LookupError(outcome_type.__name__)


def _findings(audit, group_id: bytes) -> list:
    (group,) = [g for g in audit.groups if g.group_id == group_id]
    return list(group.violations)


def test_a_damaged_record_is_pinpointed(history, tmp_path, key_file, capsys) -> None:
    store = history.copy("alice", tmp_path)
    version = _version_of(history, "alice", MessageReceived)
    flip_byte(store, history.group_id, version)
    assert main(["audit", str(store), "--key-file", key_file(history.keys["alice"]), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    (group,) = [g for g in report["groups"] if g["group_id"] == history.group_id.hex()]
    assert {"check": "record", "version": version} in [{k: f[k] for k in ("check", "version")} for f in group["findings"]]
    assert report["ok"] is False and report["violations"] >= 1


def test_an_edited_message_re_encrypted_with_the_right_key_is_flagged(history, tmp_path) -> None:
    store = history.copy("alice", tmp_path)
    version = _version_of(history, "alice", MessageReceived)

    def forge(event):
        outcome = event.outcome
        data = attrs.evolve(outcome.application_content, content=b"I never said that").encode()
        return attrs.evolve(event, outcome=MessageReceived.of(attrs.evolve(outcome.opened, data=data)))

    rewrite_event(store, history.keys["alice"], history.group_id, version, forge)
    found = _findings(audit_store(store, history.keys["alice"]), history.group_id)
    assert [(f.check, f.version) for f in found] == [("outcome", version)]
    assert "MessageReceived" in found[0].message and "SignatureError" in found[0].message


def test_a_message_attributed_to_another_sender_is_flagged(history, tmp_path) -> None:
    store = history.copy("alice", tmp_path)
    version = _version_of(history, "alice", MessageReceived)

    def forge(event):
        opened = attrs.evolve(event.outcome.opened, sender_inbox_id=history.inboxes["carol"])
        return attrs.evolve(event, outcome=MessageReceived.of(opened))

    rewrite_event(store, history.keys["alice"], history.group_id, version, forge)
    found = _findings(audit_store(store, history.keys["alice"]), history.group_id)
    assert [(f.check, f.version) for f in found] == [("outcome", version)]
    assert "sender_inbox_id" in found[0].message


def test_a_rejected_commit_recorded_as_merged_fails_the_permission_check(history, tmp_path) -> None:
    store = history.copy("alice", tmp_path)
    version = _version_of(history, "alice", CommitRejected)

    def accept(event):
        rejected = event.outcome
        forged = CommitMerged(
            committer_inbox_id=history.inboxes["carol"],
            committer_installation_id=b"",
            group_updated=None,
            identity_states=rejected.identity_states,
        )
        return attrs.evolve(event, outcome=forged)

    rewrite_event(store, history.keys["alice"], history.group_id, version, accept)
    found = _findings(audit_store(store, history.keys["alice"]), history.group_id)
    first = found[0]
    assert (first.check, first.version) == ("permissions", version)
    assert "re-derived CommitRejected(InsufficientPermissions" in first.message


def test_a_deleted_event_is_flagged(history, tmp_path) -> None:
    store = history.copy("bob", tmp_path)
    delete_event(store, history.group_id, 6)
    found = _findings(audit_store(store, history.keys["bob"]), history.group_id)
    assert ("sequence", 7) in [(f.check, f.version) for f in found]


def test_events_deleted_from_the_end_are_flagged_by_a_later_snapshot(history, tmp_path) -> None:
    store = history.copy("alice", tmp_path)
    with sqlite3.connect(store) as db:
        (last_snapshot,) = db.execute(
            "SELECT max(originator_version) FROM stored_snapshots WHERE originator_id = ?", (UUID(bytes=history.group_id).hex,)
        ).fetchone()
    total = len(events(history.path("alice"), history.keys["alice"], history.group_id))
    for version in range(last_snapshot, total + 1):
        delete_event(store, history.group_id, version)
    found = _findings(audit_store(store, history.keys["alice"]), history.group_id)
    assert any(f.check == "sequence" and "events are missing" in f.message for f in found)


def test_the_untouched_copy_still_passes(history, tmp_path) -> None:
    store = history.copy("alice", tmp_path)
    assert audit_store(store, history.keys["alice"]).ok
