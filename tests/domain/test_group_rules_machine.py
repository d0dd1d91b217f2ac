"""Stateful test of XMTP's group rules against a naive model.

A group (GROUP with the DEFAULT or ADMINS_ONLY preset, or a DM) evolves as random actors, members or
not, attempt random changes: adds (one by one or in bulk past MAX_GROUP_SIZE), removes, metadata
edits (some too long), admin and super-admin changes, permission updates, leave requests and the
removal of pending leavers, key updates. Each change goes through the client's pre-checks when
``via_client`` (otherwise it is a raw commit from a peer) and always through commit validation, with
exactly the identity states ``required_identity_states`` asks for. The model decides with plain sets
and a four-word policy vocabulary; the system's verdict, error and resulting state must agree.
Actors come from bundles (inboxes that have been members, inboxes that were promoted), from
``Role`` (the current holder of a rank) or from anywhere; a GROUP starts with its creator as super
admin and a second member as admin.

Invariants after every step: model and system agree (members, tree, admin lists, attributes,
policies); the extensions survive a protobuf round trip; a GROUP always has a super admin; a DM has
no admins and no third party; the group never exceeds MAX_GROUP_SIZE inboxes.
"""

from __future__ import annotations

import attrs
from hypothesis import event, settings, strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from mlsgroup.domain import errors
from mlsgroup.domain.commit_summary import CommitSummary, CommitViolation, ValidatedCommit, Violation
from mlsgroup.domain.conversation import (
    MAX_GROUP_SIZE,
    check_admin_list_update,
    check_group_size,
    check_leave,
    check_metadata_update,
    check_permission_update,
)
from mlsgroup.domain.extensions import ConversationType
from mlsgroup.domain.group_state import XmtpGroupState
from mlsgroup.domain.metadata_fields import MetadataField, length_limit
from mlsgroup.domain.policies import (
    BasePolicy,
    PermissionPolicyOption,
    PermissionUpdateType,
    PolicySet,
    Preset,
)
from mlsgroup.domain.validation import required_identity_states, validate_commit

from .commit_builder import commit, dm, group, identities, inst

POOL = [f"u{i:03d}" for i in range(300)]
CREATOR = POOL[0]
IDENTITIES = identities(POOL)

# The model's policy vocabulary.
ALLOW, DENY, ADMIN, SUPER = "allow", "deny", "admin", "super"
_WORDS = {
    BasePolicy.ALLOW: ALLOW,
    BasePolicy.DENY: DENY,
    BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN: ADMIN,
    BasePolicy.ALLOW_IF_SUPER_ADMIN: SUPER,
}
_OPTION_WORDS = {
    PermissionPolicyOption.ALLOW: ALLOW,
    PermissionPolicyOption.DENY: DENY,
    PermissionPolicyOption.ADMIN_ONLY: ADMIN,
    PermissionPolicyOption.SUPER_ADMIN_ONLY: SUPER,
}
_UPDATE_KEYS = {
    PermissionUpdateType.ADD_MEMBER: "add_member",
    PermissionUpdateType.REMOVE_MEMBER: "remove_member",
    PermissionUpdateType.ADD_ADMIN: "add_admin",
    PermissionUpdateType.REMOVE_ADMIN: "remove_admin",
}

# Half the time a key without a policy in the presets (the "_" rule and the admin default apply).
METADATA_KEYS = st.one_of(
    st.sampled_from([f.value for f in MetadataField.supported()]),
    st.sampled_from([MetadataField.COMMIT_LOG_SIGNER.value, "_private_field", "custom_field"]),
)
VALUES = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["x" * 101, "y" * 1001, "z" * 2049, "w" * 8193]),
)


@attrs.frozen
class Role:
    """An actor picked by rank when the step runs: the index-th (cyclically) current member of that
    rank, or of the whole group when nobody holds it. Makes privileged actors common."""

    rank: str
    index: int


def _preset_model(preset: Preset) -> tuple[dict[str, str], dict[str, str]]:
    """The model's reading of a preset, written out by hand from the spec."""
    if preset is Preset.DM:
        return (
            {"add_member": DENY, "remove_member": DENY, "add_admin": DENY, "remove_admin": DENY, "permissions": DENY},
            {f.value: ALLOW for f in MetadataField.supported()},
        )
    ordinary = ALLOW if preset is Preset.DEFAULT else ADMIN
    metadata = {
        "group_name": ordinary, "description": ordinary, "group_image_url_square": ordinary, "app_data": ordinary,
        "message_disappear_from_ns": ADMIN, "message_disappear_in_ns": ADMIN,
        "minimum_supported_protocol_version": SUPER,
    }
    policy = {"add_member": ordinary, "remove_member": ADMIN, "add_admin": SUPER, "remove_admin": SUPER,
              "permissions": SUPER}
    return policy, metadata


class GroupRules(RuleBasedStateMachine):
    inboxes = Bundle("inboxes")
    # Inboxes that were promoted at some point (or created the group): likely admins or super admins.
    privileged = Bundle("privileged")

    # -- the naive model --------------------------------------------------------------------------

    def level_allows(self, word: str, inbox: str) -> bool:
        if word == ALLOW:
            return True
        if word == DENY:
            return False
        if word == ADMIN:
            return inbox in self.admins or inbox in self.supers
        return inbox in self.supers

    def level(self, inbox: str) -> str:
        return "super admin" if inbox in self.supers else "admin" if inbox in self.admins else "member"

    def who(self, actor: str | Role) -> str:
        if isinstance(actor, str):
            return actor
        by_rank = {
            "super": [m for m in self.supers if m in self.members],
            "admin": [m for m in self.admins if m in self.members],
            "member": [m for m in self.members if m not in self.supers and m not in self.admins],
        }
        candidates = sorted(by_rank[actor.rank]) or sorted(self.members)
        return candidates[actor.index % len(candidates)]

    def metadata_word(self, key: str) -> str:
        if key in self.metadata_policy:
            return self.metadata_policy[key]
        return SUPER if key.startswith("_") else ADMIN

    # -- plumbing ---------------------------------------------------------------------------------

    def submit(self, summary: CommitSummary) -> ValidatedCommit | CommitViolation:
        needed = required_identity_states(self.state, summary)
        result = validate_commit(self.state, summary, {key: IDENTITIES[key] for key in needed})
        if isinstance(result, ValidatedCommit):
            self.state = result.state_after(summary.leaves_after(self.state))
        return result

    def expect(self, result, expected: Violation | None) -> None:
        event(f"{self.kind.name}: {'accepted' if expected is None else expected.name}")
        if expected is None:
            assert isinstance(result, ValidatedCommit), result
        else:
            assert isinstance(result, CommitViolation) and result.violation is expected, (result, expected)

    def rejection(self, actor: str, allowed: bool, *, too_long: bool = False, self_removal: bool = False):
        """The violation validation must report first, in its documented rule order."""
        if too_long:
            return Violation.TOO_MANY_CHARACTERS
        if actor not in self.members:
            return Violation.ACTOR_NOT_MEMBER
        if self_removal:
            return Violation.SUBJECT_DOES_NOT_EXIST
        return None if allowed else Violation.INSUFFICIENT_PERMISSIONS

    # -- setup ------------------------------------------------------------------------------------

    @initialize(
        target=inboxes,
        kind=st.sampled_from([Preset.DEFAULT, Preset.ADMINS_ONLY, Preset.DM]),
        other=st.sampled_from(POOL[1:]),
    )
    def create(self, kind, other):
        creator = CREATOR
        self.kind = ConversationType.DM if kind is Preset.DM else ConversationType.GROUP
        self.policy, self.metadata_policy = _preset_model(kind)
        self.admins: list[str] = []
        self.pending: set[str] = set()
        if kind is Preset.DM:
            self.state = dm(creator, other, joined=False)
            self.members = {creator}
            self.supers: list[str] = []
            self.dm_members = {creator, other}
            self.attributes = {"group_name": "", "description": "", "group_image_url_square": ""}
            # The creator adds the target: allowed only through the DM exception.
            self.expect(self.submit(commit(self.state, creator, add=[other])), None)
            self.members.add(other)
        else:
            self.state = group(creator, permissions=kind.policy_set())
            self.members = {creator}
            self.supers = [creator]
            self.dm_members = None
            self.attributes = {"group_name": "", "description": "", "group_image_url_square": "", "app_data": ""}
            # The creator adds ``other`` and makes them an admin, as a client would.
            assert self.add(creator, [other]) == [other]
            assert self.change_admins(creator, other, super_list=False, add=True, via_client=True)
        return multiple(creator, other)

    @initialize(target=privileged)
    def creator_is_privileged(self):
        return CREATOR

    # Inboxes that have been members or promoted, current members by rank, and anyone at all.
    roles = st.builds(Role, st.sampled_from(["super", "admin", "member"]), st.integers(0, 9))
    actors = st.one_of(roles, inboxes, roles, privileged, st.sampled_from(POOL))

    # -- membership -------------------------------------------------------------------------------

    def add(self, actor: str, wanted: list[str]) -> list[str]:
        new = sorted(set(wanted) - self.members)
        if len(self.members | set(new)) > MAX_GROUP_SIZE:
            before = self.state
            try:
                check_group_size(self.members, new)
            except errors.UserLimitExceeded:
                event("UserLimitExceeded")
                assert self.state == before
                return []
            raise AssertionError("an add past MAX_GROUP_SIZE was not refused")
        check_group_size(self.members, new)
        allowed = all(self.level_allows(self.policy["add_member"], actor) for _ in new)
        if not allowed and self.dm_members is not None:
            allowed = len(new) == 1 and new[0] in self.dm_members and new[0] != actor
        expected = self.rejection(actor, allowed)
        result = self.submit(commit(self.state, actor, add=new))
        self.expect(result, expected)
        if expected is not None:
            return []
        assert result.added_inboxes == tuple(new)
        self.members |= set(new)
        return new

    @rule(target=inboxes, actor=actors, wanted=st.lists(st.sampled_from(POOL), max_size=3))
    def add_members(self, actor, wanted):
        actor = self.who(actor)
        return multiple(*self.add(actor, wanted))

    @rule(target=inboxes, actor=actors, count=st.integers(1, 260), offset=st.integers(0, 299))
    def bulk_add(self, actor, count, offset):
        actor = self.who(actor)
        rotated = POOL[offset:] + POOL[:offset]
        return multiple(*self.add(actor, [i for i in rotated if i not in self.members][:count]))

    def remove(self, actor: str, targets: set[str]):
        targets = targets & self.members
        super_targets = targets & set(self.supers)
        policy_allows = all(self.level_allows(self.policy["remove_member"], actor) for _ in targets)
        expected = self.rejection(actor, policy_allows and not super_targets, self_removal=actor in targets)
        if super_targets and policy_allows and expected is Violation.INSUFFICIENT_PERMISSIONS:
            event("remove: only the super-admin protection refuses")
        leavers = set(self.pending)
        result = self.submit(commit(self.state, actor, remove=sorted(targets)))
        self.expect(result, expected)
        if expected is None:
            assert not super_targets, "a super admin was removed"
            transcript = result.group_updated(leavers)
            if targets:
                assert set(transcript.left_inboxes) == targets & leavers
                assert set(transcript.removed_inboxes) == targets - leavers
            # A removal changes membership only: admin lists may name former members.
            self.members -= targets
            self.pending -= targets

    @rule(actor=actors, victims=st.sets(inboxes, max_size=3))
    def remove_members(self, actor, victims):
        actor = self.who(actor)
        self.remove(actor, set(victims))

    @precondition(lambda self: self.supers)
    @rule(actor=privileged, index=st.integers(0, 9))
    def remove_a_super_admin(self, actor, index):
        self.remove(actor, {self.supers[index % len(self.supers)]})

    @precondition(lambda self: self.pending & self.members)
    @rule(actor=actors)
    def remove_pending_leavers(self, actor):
        actor = self.who(actor)
        self.remove(actor, self.pending & self.members)

    @rule(actor=actors)
    def key_update(self, actor):
        actor = self.who(actor)
        self.expect(self.submit(commit(self.state, actor)), self.rejection(actor, True))

    @rule(actor=actors)
    def leave(self, actor):
        actor = self.who(actor)
        if actor not in self.members:
            expected = errors.NotAGroupMember
        elif len(self.members) == 1:
            expected = errors.SingleMemberLeaveRejected
        elif self.kind is ConversationType.DM:
            expected = errors.DmLeaveForbidden
        elif actor in self.supers:
            expected = errors.SuperAdminLeaveForbidden
        else:
            expected = None
        try:
            check_leave(self.state, actor)
        except errors.LeaveError as raised:
            event(f"leave: {type(raised).__name__}")
            assert type(raised) is expected, (raised, expected)
            return
        assert expected is None
        event("leave: requested")
        self.pending.add(actor)

    # -- metadata ---------------------------------------------------------------------------------

    @rule(actor=actors, key=METADATA_KEYS, value=VALUES, via_client=st.booleans())
    def update_metadata(self, actor, key, value, via_client):
        actor = self.who(actor)
        limit = length_limit(key)
        too_long = limit is not None and len(value.encode()) > limit
        if via_client:
            dm_refuses = self.kind is ConversationType.DM and key in (
                "group_name", "description", "group_image_url_square", "app_data")
            try:
                check_metadata_update(self.state, key, value)
            except errors.DmGroupMetadataForbidden:
                assert dm_refuses
                return
            except errors.TooManyCharacters as raised:
                assert too_long and not dm_refuses and raised.length == limit
                return
            assert not dm_refuses and not too_long
        changed = self.attributes.get(key) != value
        allowed = not changed or self.level_allows(self.metadata_word(key), actor)
        expected = self.rejection(actor, allowed, too_long=too_long and changed)
        if expected is Violation.INSUFFICIENT_PERMISSIONS and key not in self.metadata_policy:
            event(f"metadata: no policy for {key[0] == '_' and '_' or ''}key refuses an actor of rank {self.level(actor)}")
        mutable = self.state.mutable_metadata.with_attribute(key, value)
        self.expect(self.submit(commit(self.state, actor, mutable=mutable)), expected)
        if expected is None:
            self.attributes[key] = value

    # -- admin lists ------------------------------------------------------------------------------

    def change_admins(self, actor: str, target: str, *, super_list: bool, add: bool, via_client: bool) -> bool:
        """Attempt the change; whether it was accepted and changed a list."""
        if via_client and self.kind is ConversationType.DM:
            try:
                check_admin_list_update(self.state)
            except errors.DmGroupMetadataForbidden:
                return False
            raise AssertionError("a DM accepted an admin-list update")
        listing = self.supers if super_list else self.admins
        changed = (target not in listing) if add else (target in listing)
        if super_list:
            after = len(listing) + (1 if add else -1) if changed else len(listing)
            allowed = actor in self.supers and (add or after > 0)
        else:
            allowed = self.level_allows(self.policy["add_admin" if add else "remove_admin"], actor)
        allowed = allowed or not changed
        expected = self.rejection(actor, allowed)
        metadata = self.state.mutable_metadata
        if super_list:
            metadata = metadata.with_super_admin(target) if add else metadata.without_super_admin(target)
        else:
            metadata = metadata.with_admin(target) if add else metadata.without_admin(target)
        result = self.submit(commit(self.state, actor, mutable=metadata))
        self.expect(result, expected)
        if expected is None and changed:
            if add:
                listing.append(target)
            else:
                listing.remove(target)
            return True
        return False

    @rule(actor=actors, subject=inboxes, add=st.booleans(), via_client=st.booleans())
    def update_admins(self, actor, subject, add, via_client):
        actor = self.who(actor)
        self.change_admins(actor, subject, super_list=False, add=add, via_client=via_client)

    @rule(actor=actors, subject=inboxes, add=st.booleans(), via_client=st.booleans())
    def update_super_admins(self, actor, subject, add, via_client):
        actor = self.who(actor)
        self.change_admins(actor, subject, super_list=True, add=add, via_client=via_client)

    @rule(target=privileged, actor=actors, index=st.integers(0, 299), super_list=st.booleans())
    def promote_a_member(self, actor, index, super_list):
        actor = self.who(actor)
        members = sorted(self.members)
        subject = members[index % len(members)]
        promoted = self.change_admins(actor, subject, super_list=super_list, add=True, via_client=True)
        return multiple(subject) if promoted else multiple()

    # -- permissions ------------------------------------------------------------------------------

    @rule(
        actor=actors,
        update=st.sampled_from(list(PermissionUpdateType)),
        option=st.sampled_from(list(PermissionPolicyOption)),
        key=METADATA_KEYS,
        via_client=st.booleans(),
    )
    def update_permission(self, actor, update, option, key, via_client):
        actor = self.who(actor)
        if via_client and self.kind is ConversationType.DM:
            try:
                check_permission_update(self.state)
            except errors.DmGroupMetadataForbidden:
                return
            raise AssertionError("a DM accepted a permission update")
        word = _OPTION_WORDS[option]
        if update is PermissionUpdateType.UPDATE_METADATA:
            changed = self.metadata_policy.get(key) != word
        else:
            if update in (PermissionUpdateType.ADD_ADMIN, PermissionUpdateType.REMOVE_ADMIN) and word == ALLOW:
                word = SUPER  # the permissions family has no ALLOW
            changed = self.policy[_UPDATE_KEYS[update]] != word
        expected = self.rejection(actor, actor in self.supers or not changed)
        new = self.state.permissions.updated(update, option, key)
        result = self.submit(commit(self.state, actor, permissions=new))
        self.expect(result, expected)
        if expected is None:
            assert result.permissions_changed == changed
            if update is PermissionUpdateType.UPDATE_METADATA:
                self.metadata_policy[key] = word
            else:
                self.policy[_UPDATE_KEYS[update]] = word

    # -- invariants -------------------------------------------------------------------------------

    @invariant()
    def system_matches_model(self):
        state: XmtpGroupState = self.state
        assert state.member_inboxes() == self.members
        assert set(state.leaves) == {inst(inbox) for inbox in self.members}
        assert list(state.mutable_metadata.admin_list) == self.admins
        assert list(state.mutable_metadata.super_admin_list) == self.supers
        assert dict(state.mutable_metadata.attributes) == self.attributes
        policies: PolicySet = state.permissions
        words = {
            "add_member": policies.add_member_policy,
            "remove_member": policies.remove_member_policy,
            "add_admin": policies.add_admin_policy,
            "remove_admin": policies.remove_admin_policy,
            "permissions": policies.update_permissions_policy,
        }
        assert {k: _WORDS[v] for k, v in words.items()} == self.policy
        assert {k: _WORDS[v] for k, v in policies.update_metadata_policy.items()} == self.metadata_policy

    @invariant()
    def extensions_round_trip(self):
        assert XmtpGroupState.from_extensions(self.state.extensions(), self.state.leaves) == self.state

    @invariant()
    def group_keeps_a_super_admin(self):
        if self.state.conversation_type is ConversationType.GROUP:
            assert self.state.mutable_metadata.super_admin_list

    @invariant()
    def dm_stays_between_two(self):
        if self.state.conversation_type is ConversationType.DM:
            metadata = self.state.mutable_metadata
            assert not metadata.admin_list and not metadata.super_admin_list
            assert self.state.member_inboxes() <= self.state.metadata.dm_members.inboxes()
            assert len(self.state.member_inboxes()) <= 2

    @invariant()
    def size_limit_holds(self):
        assert len(self.state.member_inboxes()) <= MAX_GROUP_SIZE


GroupRules.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestGroupRules = GroupRules.TestCase
