"""MlsGroup: one group (or DM) of a client, generic over its Context (ARCHITECTURE 4; libxmtp MlsGroup).

A cheap handle: it holds the context and the group id. The group's standing (type, epoch, activity,
membership and consent state, who added us, times), its messages, metadata attributes, admin lists
and permissions come from the context's read models (``context.views``, which show every event
saved before the query); members, keys and every decision from the aggregate state in the
context's store. A mutating call runs the local pre-checks whose outcome is certain
(DM rules, leave rules, length limits, MAX_GROUP_SIZE), queues an intent, and syncs until the intent
is resolved: it returns once the change is merged (or the message confirmed by the delivery
service) and raises the specific error otherwise. Permission checks happen when the commit is built:
it is validated exactly as every receiver will validate it, and never sent if it would be rejected.
"""

from __future__ import annotations

from typing import Generic, Optional, TypeVar

from . import errors
from .application_content import LEAVE_REQUEST_CONTENT_TYPE, TEXT_CONTENT_TYPE, message_id
from .conversation import (
    ConsentState,
    GroupMember,
    MembershipState,
    check_admin_list_update,
    check_group_size,
    check_leave,
    check_metadata_update,
    check_permission_update,
    group_members,
)
from .extensions import ConversationType
from .group_aggregate import GroupAggregateState
from .group_decisions import change_consent_state, change_membership_state
from .group_errors import CannotRemoveSelf
from .group_sync import GroupSync
from .intents import (
    AdminListAction,
    KeyUpdateData,
    MetadataUpdateData,
    SendMessageData,
    UpdateAdminListData,
    UpdateGroupMembershipData,
    UpdatePermissionData,
)
from .message_kinds import MessageKind
from .metadata_fields import MetadataField
from .policies import PermissionPolicyOption, PermissionUpdateType, PolicySet
from .ports import Context, GroupRow
from .stored_message import StoredMessage

__all__ = ["MlsGroup"]

C = TypeVar("C", bound=Context)


class MlsGroup(Generic[C]):
    """A group of the client ``context``; see the module docstring."""

    __slots__ = ("_context", "_group_id", "_sync")

    def __init__(self, context: C, group_id: bytes) -> None:
        self._context = context
        self._group_id = bytes(group_id)
        self._sync = GroupSync(context, self._group_id)

    def __repr__(self) -> str:
        return f"<MlsGroup {self._group_id.hex()}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MlsGroup) and other._group_id == self._group_id and other._context is self._context

    def __hash__(self) -> int:
        return hash(self._group_id)

    # -- identity and standing -----------------------------------------------------------------

    @property
    def group_id(self) -> bytes:
        return self._group_id

    @property
    def context(self) -> C:
        return self._context

    def state(self) -> GroupAggregateState:
        """The aggregate state (GroupNotFound if the store lost the group)."""
        return self._sync.state()

    def _row(self) -> GroupRow:
        """The group's row of the ``groups`` read model (GroupNotFound if there is none)."""
        row = self._context.views.row(self._group_id)
        if row is None:
            raise errors.GroupNotFound(self._group_id)
        return row

    @property
    def conversation_type(self) -> ConversationType:
        return self._row().conversation_type

    @property
    def dm_id(self) -> Optional[str]:
        return self._row().dm_id

    @property
    def epoch(self) -> int:
        return self._row().epoch

    @property
    def epoch_authenticator(self) -> bytes:
        return bytes(self.state().mls.epoch_authenticator)

    @property
    def is_active(self) -> bool:
        return self._row().is_active

    @property
    def membership_state(self) -> MembershipState:
        return self._row().membership_state

    @property
    def consent_state(self) -> ConsentState:
        return self._row().consent_state

    @property
    def added_by_inbox_id(self) -> str:
        return self._row().added_by_inbox_id

    @property
    def created_at_ns(self) -> int:
        return self._row().created_at_ns

    @property
    def last_message_ns(self) -> int:
        """When the newest stored message of the group was sent (before any: its creation time, or the
        welcome's server time for a group we joined)."""
        return self._row().last_message_ns

    @property
    def creator_inbox_id(self) -> str:
        return self.state().xmtp.metadata.creator_inbox_id

    @property
    def dm_peer_inbox_id(self) -> Optional[str]:
        """The other inbox of a DM (None for groups)."""
        members = self.state().xmtp.metadata.dm_members
        if members is None:
            return None
        me = self._context.inbox_id
        return members.member_two_inbox_id if members.member_one_inbox_id == me else members.member_one_inbox_id

    @property
    def has_pending_leave_request(self) -> bool:
        """Whether members asked to leave and still await removal by a super admin."""
        state = self.state()
        return any(state.xmtp.is_member(i) for i in state.pending_leavers)

    def pending_leave_inbox_ids(self) -> tuple[str, ...]:
        state = self.state()
        return tuple(i for i in state.pending_leavers if state.xmtp.is_member(i))

    def failed_installations(self) -> tuple[bytes, ...]:
        """Installations the membership lists as failed (their key package could not be used)."""
        return self.state().xmtp.membership.failed_installations

    # -- members, metadata, permissions ---------------------------------------------------------

    def members(self) -> list[GroupMember]:
        """The members of the current epoch; once a commit removed us, those that commit left (libxmtp
        reads the removing commit's group context, so a removed member no longer lists itself)."""
        state = self.state()
        after = state.after_removal
        return group_members(after.xmtp() if after is not None and not state.is_active else state.xmtp)

    # The extension reads come from the read model; it cannot know them only for a history recorded
    # before commits carried their extensions (then it answers None and the aggregate answers).

    def _attribute(self, field: MetadataField) -> str:
        attributes = self._context.views.attributes(self._group_id)
        if attributes is None:
            return self.state().xmtp.mutable_metadata.get(field) or ""
        return attributes.get(field.value) or ""

    @property
    def name(self) -> str:
        return self._attribute(MetadataField.GROUP_NAME)

    @property
    def description(self) -> str:
        return self._attribute(MetadataField.DESCRIPTION)

    @property
    def image_url_square(self) -> str:
        return self._attribute(MetadataField.GROUP_IMAGE_URL_SQUARE)

    @property
    def app_data(self) -> str:
        return self._attribute(MetadataField.APP_DATA)

    def _admin_lists(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        lists = self._context.views.admin_lists(self._group_id)
        if lists is None:
            mutable = self.state().xmtp.mutable_metadata
            return tuple(mutable.admin_list), tuple(mutable.super_admin_list)
        return lists

    def admins(self) -> list[str]:
        return list(self._admin_lists()[0])

    def super_admins(self) -> list[str]:
        return list(self._admin_lists()[1])

    def is_admin(self, inbox_id: str) -> bool:
        return inbox_id in self._admin_lists()[0]

    def is_super_admin(self, inbox_id: str) -> bool:
        return inbox_id in self._admin_lists()[1]

    def permissions(self) -> PolicySet:
        encoded = self._context.views.policy_set(self._group_id)
        if encoded is None:
            return self.state().xmtp.permissions
        return PolicySet.decode(encoded)

    # -- messages ---------------------------------------------------------------------------------

    def _conversation_ids(self) -> list[bytes]:
        """This group, or every group of the DM conversation it belongs to (stitching)."""
        dm = self._row().dm_id
        if dm is None:
            return [self._group_id]
        ids = self._context.views.groups_with_dm_id(dm)
        return ids if self._group_id in ids else [self._group_id, *ids]

    def messages(
        self, sent_after_ns: Optional[int] = None, limit: Optional[int] = None, kind: Optional[MessageKind] = None
    ) -> list[StoredMessage]:
        """Stored messages oldest first (a DM includes the messages of its stitched groups)."""
        return self._context.views.messages(
            self._conversation_ids(), sent_after_ns=sent_after_ns, limit=limit, kind=kind
        )

    def _active_state(self) -> GroupAggregateState:
        state = self.state()
        if not state.is_active:
            raise errors.GroupInactive()
        return state

    def send(self, content: bytes, content_type: str = TEXT_CONTENT_TYPE) -> bytes:
        """Send application content; returns its message id once the delivery service has it."""
        content = bytes(content)
        with self._context.group_mutex(self._group_id):
            state = self._active_state()
            key = str(self._context.clock.now_ns()).encode()
            data = SendMessageData(
                content=content,
                content_type=content_type,
                idempotency_key=key,
                message_id=message_id(self._group_id, key, content),
            )
            if state.consent_state is ConsentState.UNKNOWN:
                self._decide_standing(lambda s: change_consent_state(s, ConsentState.ALLOWED, self._now()))
            self._sync.run(data)
            return data.message_id

    def send_text(self, text: str) -> bytes:
        return self.send(text.encode("utf-8"), TEXT_CONTENT_TYPE)

    # -- syncing ----------------------------------------------------------------------------------

    def sync(self) -> None:
        """Publish our intents, process every new envelope, send welcomes; a super admin then removes
        members that asked to leave. GroupInactive once we were removed. A DM syncs its stitched groups."""
        for group_id in self._conversation_ids():
            group = self if group_id == self._group_id else MlsGroup(self._context, group_id)
            group._sync_one(required=group_id == self._group_id)

    def _sync_one(self, *, required: bool) -> None:
        with self._context.group_mutex(self._group_id):
            if not self.state().is_active:
                if required:
                    raise errors.GroupInactive()
                return
            self._sync.sync_round()
            self._sync.remove_pending_leavers()

    def publish_intents(self) -> None:
        """Publish queued intents without waiting for them (libxmtp publish_intents)."""
        with self._context.group_mutex(self._group_id):
            self._sync.publish_intents()

    # -- membership -------------------------------------------------------------------------------

    def _run(self, data) -> None:
        with self._context.group_mutex(self._group_id):
            self._active_state()
            self._sync.run(data)

    def _run_membership(self, data: UpdateGroupMembershipData) -> None:
        """Like libxmtp: a membership change that would change nothing queues no intent."""
        if self._sync.membership_unchanged(data):
            return
        self._sync.run(data)

    def add_members(self, inbox_ids) -> None:
        """Add inboxes (all their installations); UserLimitExceeded past MAX_GROUP_SIZE, changing nothing."""
        inbox_ids = tuple(dict.fromkeys(inbox_ids))
        with self._context.group_mutex(self._group_id):
            state = self._active_state()
            check_group_size(state.xmtp.membership.members, inbox_ids)
            new = [i for i in inbox_ids if not state.xmtp.is_member(i)]
            if new:
                self._context.identity.get_inbox_states(new)  # InboxNotFound for an unknown inbox
            self._run_membership(UpdateGroupMembershipData(add_inbox_ids=inbox_ids))

    def remove_members(self, inbox_ids) -> None:
        """Remove inboxes (all their installations); a member leaves with ``leave()`` instead."""
        inbox_ids = tuple(dict.fromkeys(inbox_ids))
        if self._context.inbox_id in inbox_ids:
            raise CannotRemoveSelf()
        with self._context.group_mutex(self._group_id):
            self._active_state()
            self._run_membership(UpdateGroupMembershipData(remove_inbox_ids=inbox_ids))

    def update_installations(self) -> None:
        """Add members' new installations, remove revoked ones, record failures."""
        with self._context.group_mutex(self._group_id):
            self._active_state()
            self._run_membership(UpdateGroupMembershipData())

    def key_update(self) -> None:
        """Rotate our leaf's keys with an empty commit."""
        self._run(KeyUpdateData())

    def leave(self) -> None:
        """Ask to leave (a leave request; a super admin's client removes us). Checks in libxmtp's order."""
        with self._context.group_mutex(self._group_id):
            state = self.state()
            if not state.is_active:  # removed: the last epoch we saw still lists us
                raise errors.NotAGroupMember()
            check_leave(state.xmtp, self._context.inbox_id)
            if self._context.inbox_id in state.pending_leavers:
                return  # libxmtp sends the request only once
            key = str(self._context.clock.now_ns()).encode()
            self._sync.run(
                SendMessageData(
                    content=b"",
                    content_type=LEAVE_REQUEST_CONTENT_TYPE,
                    idempotency_key=key,
                    message_id=message_id(self._group_id, key, b""),
                )
            )

    # -- metadata, admins, permissions ---------------------------------------------------------------

    def _update_metadata(self, field: MetadataField, value: str) -> None:
        with self._context.group_mutex(self._group_id):
            check_metadata_update(self._active_state().xmtp, field, value)
            self._sync.run(MetadataUpdateData(field_name=field.value, value=value))

    def update_name(self, name: str) -> None:
        self._update_metadata(MetadataField.GROUP_NAME, name)

    def update_description(self, description: str) -> None:
        self._update_metadata(MetadataField.DESCRIPTION, description)

    def update_image_url_square(self, url: str) -> None:
        self._update_metadata(MetadataField.GROUP_IMAGE_URL_SQUARE, url)

    def update_app_data(self, app_data: str) -> None:
        self._update_metadata(MetadataField.APP_DATA, app_data)

    def _update_admins(self, action: AdminListAction, inbox_id: str) -> None:
        with self._context.group_mutex(self._group_id):
            check_admin_list_update(self._active_state().xmtp)
            self._sync.run(UpdateAdminListData(action=action, inbox_id=inbox_id))

    def add_admin(self, inbox_id: str) -> None:
        self._update_admins(AdminListAction.ADD_ADMIN, inbox_id)

    def remove_admin(self, inbox_id: str) -> None:
        self._update_admins(AdminListAction.REMOVE_ADMIN, inbox_id)

    def add_super_admin(self, inbox_id: str) -> None:
        self._update_admins(AdminListAction.ADD_SUPER_ADMIN, inbox_id)

    def remove_super_admin(self, inbox_id: str) -> None:
        self._update_admins(AdminListAction.REMOVE_SUPER_ADMIN, inbox_id)

    def update_permission(
        self,
        update_type: PermissionUpdateType,
        option: PermissionPolicyOption,
        metadata_field: Optional[MetadataField | str] = None,
    ) -> None:
        """Replace one policy (super admins only; InvalidPermissionUpdate for UPDATE_METADATA without a field)."""
        field = metadata_field.value if isinstance(metadata_field, MetadataField) else metadata_field
        with self._context.group_mutex(self._group_id):
            xmtp = self._active_state().xmtp
            check_permission_update(xmtp)
            xmtp.permissions.updated(update_type, option, field)  # InvalidPermissionUpdate before queueing
            self._sync.run(
                UpdatePermissionData(update_type=update_type.value, policy_option=option.value, metadata_field=field)
            )

    # -- standing -----------------------------------------------------------------------------------

    def _now(self) -> int:
        return self._context.clock.now_ns()

    def _decide_standing(self, decide) -> None:
        with self._context.commit_lock(self._group_id):
            state = self.state()
            events = decide(state)
            if events:
                self._context.group_store.save(self._group_id, events)

    def update_consent_state(self, consent_state: ConsentState) -> None:
        self._decide_standing(lambda s: change_consent_state(s, consent_state, self._now()))

    def update_membership_state(self, membership_state: MembershipState) -> None:
        """E.g. accept a PENDING group (ALLOWED) or reject it."""
        self._decide_standing(lambda s: change_membership_state(s, membership_state, self._now()))
