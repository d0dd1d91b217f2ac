"""CommitSummary helpers, violations as errors, and the transcript of a validated commit."""

from mlsgroup.domain import errors
from mlsgroup.domain.commit_summary import CommitViolation, Violation
from mlsgroup.domain.transcript import MetadataFieldChange
from mlsgroup.domain.validation import check_commit

from .commit_builder import commit, group, identities, inst, leaf


def test_every_violation_maps_to_a_commit_validation_error():
    for violation in Violation:
        error = CommitViolation(violation, "7").error()
        assert isinstance(error, errors.CommitValidationError)
        assert type(error).__name__ == violation.value


def test_leaves_after():
    state = group("alice", ["bob"])
    summary = commit(state, "alice", add=["carol"], remove=["bob"])
    assert summary.leaves_after(state) == {inst("alice"): "alice", inst("carol"): "carol"}


def test_group_updated_lists_leavers_apart():
    state = group("alice", ["bob", "carol"])
    validated = check_commit(state, commit(state, "alice", remove=["bob", "carol"]), identities(["bob", "carol", "alice"]))
    updated = validated.group_updated(pending_leavers={"bob"})
    assert updated.initiated_by_inbox_id == "alice"
    assert updated.removed_inboxes == ("carol",) and updated.left_inboxes == ("bob",)


def test_key_update_writes_no_transcript():
    state = group("alice", ["bob"])
    validated = check_commit(state, commit(state, "bob"), identities(["alice", "bob"]))
    assert validated.group_updated() is None
    assert validated.actor.inbox_id == "bob" and validated.actor_installation_id == leaf("bob").installation_id


def test_metadata_transcript():
    state = group("alice", ["bob"])
    renamed = state.mutable_metadata.with_attribute("group_name", "hi").with_admin("bob")
    validated = check_commit(state, commit(state, "alice", mutable=renamed), identities(["alice", "bob"]))
    updated = validated.group_updated()
    assert updated.metadata_field_changes == (MetadataFieldChange("group_name", "", "hi"),)
    assert updated.added_admins == ("bob",)
