"""XMTP group permission policies (libxmtp group_permissions.rs): base rules, And/Any combinators,
the PolicySet with its protobuf form, the presets, and permission-update options.

A policy is a ``BasePolicy`` or an ``AndCondition`` / ``AnyCondition`` over a non-empty tuple of
policies. The three policy families of the wire format (membership, metadata, permissions-update)
share the same meanings and differ only in their enum numbering; the permissions family has no
ALLOW, so a PolicySet refuses ALLOW in its admin and permission policies.
"""

from __future__ import annotations

import enum
from typing import Mapping, Union

import attrs

from . import errors
from .frozen_map import FrozenMap
from .metadata_fields import MetadataField
from .protobuf import RECURSION_LIMIT, DecodeError, ProtoMessage, ProtoWriter, to_int32

__all__ = [
    "BasePolicy",
    "AndCondition",
    "AnyCondition",
    "Policy",
    "PolicyFamily",
    "PermissionLevel",
    "Actor",
    "evaluate",
    "PolicySet",
    "Preset",
    "PermissionUpdateType",
    "PermissionPolicyOption",
    "encode_policy",
    "decode_policy",
]


class PermissionLevel(enum.Enum):
    """A member's rank: a super admin outranks an admin, who outranks a member."""

    MEMBER = "member"
    ADMIN = "admin"
    SUPER_ADMIN = "super_admin"


class BasePolicy(enum.Enum):
    """A leaf rule deciding on the actor alone."""

    ALLOW = "allow"
    DENY = "deny"
    ALLOW_IF_ADMIN_OR_SUPER_ADMIN = "allow_if_admin_or_super_admin"
    ALLOW_IF_SUPER_ADMIN = "allow_if_super_admin"


@attrs.frozen
class AndCondition:
    """Allows when every inner policy allows."""

    policies: tuple[Policy, ...] = attrs.field(converter=tuple)

    def __attrs_post_init__(self) -> None:
        if not self.policies:
            raise ValueError("an AndCondition needs at least one policy")


@attrs.frozen
class AnyCondition:
    """Allows when at least one inner policy allows."""

    policies: tuple[Policy, ...] = attrs.field(converter=tuple)

    def __attrs_post_init__(self) -> None:
        if not self.policies:
            raise ValueError("an AnyCondition needs at least one policy")


Policy = Union[BasePolicy, AndCondition, AnyCondition]


@attrs.frozen
class Actor:
    """Who a policy is evaluated for. Being the creator is recorded but grants nothing."""

    inbox_id: str
    is_admin: bool = False
    is_super_admin: bool = False
    is_creator: bool = False


def evaluate(policy: Policy, actor: Actor) -> bool:
    """Whether ``policy`` allows ``actor``."""
    if isinstance(policy, BasePolicy):
        if policy is BasePolicy.ALLOW:
            return True
        if policy is BasePolicy.DENY:
            return False
        if policy is BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN:
            return actor.is_admin or actor.is_super_admin
        return actor.is_super_admin
    if isinstance(policy, AndCondition):
        return all(evaluate(inner, actor) for inner in policy.policies)
    return any(evaluate(inner, actor) for inner in policy.policies)


class PolicyFamily(enum.Enum):
    """The three protobuf policy messages; each numbers its base enum differently."""

    MEMBERSHIP = "membership"
    METADATA = "metadata"
    PERMISSIONS = "permissions"


_BASE_NUMBERS: dict[PolicyFamily, dict[BasePolicy, int]] = {
    PolicyFamily.MEMBERSHIP: {
        BasePolicy.ALLOW: 1,
        BasePolicy.DENY: 2,
        BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN: 3,
        BasePolicy.ALLOW_IF_SUPER_ADMIN: 4,
    },
    PolicyFamily.METADATA: {
        BasePolicy.ALLOW: 1,
        BasePolicy.DENY: 2,
        BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN: 3,
        BasePolicy.ALLOW_IF_SUPER_ADMIN: 4,
    },
    PolicyFamily.PERMISSIONS: {
        BasePolicy.DENY: 1,
        BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN: 2,
        BasePolicy.ALLOW_IF_SUPER_ADMIN: 3,
    },
}
_BASES_BY_NUMBER = {family: {n: b for b, n in table.items()} for family, table in _BASE_NUMBERS.items()}

_KIND_BASE, _KIND_AND, _KIND_ANY = 1, 2, 3


def _check_family(policy: Policy, family: PolicyFamily) -> None:
    if isinstance(policy, BasePolicy):
        if policy not in _BASE_NUMBERS[family]:
            raise ValueError(f"{policy} is not a valid {family.value} policy")
        return
    if not isinstance(policy, (AndCondition, AnyCondition)):
        raise TypeError(f"not a policy: {policy!r}")
    for inner in policy.policies:
        _check_family(inner, family)


def encode_policy(policy: Policy, family: PolicyFamily) -> bytes:
    """The MembershipPolicy / MetadataPolicy / PermissionsUpdatePolicy message for ``policy``."""
    writer = ProtoWriter()
    if isinstance(policy, BasePolicy):
        writer.varint(_KIND_BASE, _BASE_NUMBERS[family][policy], present=True)
    else:
        kind = _KIND_AND if isinstance(policy, AndCondition) else _KIND_ANY
        inner = ProtoWriter().repeated_messages(1, (encode_policy(p, family) for p in policy.policies))
        writer.message(kind, inner.finish())
    return writer.finish()


def decode_policy(data: bytes, family: PolicyFamily, _depth: int = 0) -> Policy:
    """Decode one policy message; an unknown base, an empty condition or no kind is a DecodeError."""
    if _depth > RECURSION_LIMIT:
        raise DecodeError("recursion limit reached")
    message = ProtoMessage(data)
    kind = message.last_of((_KIND_BASE, _KIND_AND, _KIND_ANY))
    if kind is None:
        raise DecodeError(f"invalid {family.value} policy: no kind")
    if kind == _KIND_BASE:
        number = to_int32(message.varint(_KIND_BASE))
        base = _BASES_BY_NUMBER[family].get(number)
        if base is None:
            raise DecodeError(f"invalid {family.value} policy: base {number}")
        return base
    condition = ProtoMessage(message.message(kind) or b"")
    inner = [decode_policy(p, family, _depth + 1) for p in condition.repeated_messages(1)]
    if not inner:
        raise DecodeError(f"invalid {family.value} policy: empty condition")
    return AndCondition(inner) if kind == _KIND_AND else AnyCondition(inner)


def _metadata_policies(value: Mapping[str, Policy]) -> FrozenMap[str, Policy]:
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


class PermissionUpdateType(enum.Enum):
    """Which policy of the set a permission update replaces (libxmtp numbering)."""

    ADD_MEMBER = 1
    REMOVE_MEMBER = 2
    ADD_ADMIN = 3
    REMOVE_ADMIN = 4
    UPDATE_METADATA = 5


class PermissionPolicyOption(enum.Enum):
    """The policy a permission update installs (libxmtp numbering)."""

    ALLOW = 1
    DENY = 2
    ADMIN_ONLY = 3
    SUPER_ADMIN_ONLY = 4

    def policy(self, family: PolicyFamily) -> BasePolicy:
        """The base policy this option means in ``family``; ALLOW for the permissions family is super-admin-only."""
        if self is PermissionPolicyOption.ALLOW:
            if family is PolicyFamily.PERMISSIONS:
                return BasePolicy.ALLOW_IF_SUPER_ADMIN
            return BasePolicy.ALLOW
        if self is PermissionPolicyOption.DENY:
            return BasePolicy.DENY
        if self is PermissionPolicyOption.ADMIN_ONLY:
            return BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN
        return BasePolicy.ALLOW_IF_SUPER_ADMIN


@attrs.frozen
class PolicySet:
    """The permissions of a group (protobuf PolicySet); metadata policies are keyed by attribute name."""

    add_member_policy: Policy
    remove_member_policy: Policy
    update_metadata_policy: FrozenMap[str, Policy] = attrs.field(converter=_metadata_policies)
    add_admin_policy: Policy
    remove_admin_policy: Policy
    update_permissions_policy: Policy

    def __attrs_post_init__(self) -> None:
        _check_family(self.add_member_policy, PolicyFamily.MEMBERSHIP)
        _check_family(self.remove_member_policy, PolicyFamily.MEMBERSHIP)
        for policy in self.update_metadata_policy.values():
            _check_family(policy, PolicyFamily.METADATA)
        _check_family(self.add_admin_policy, PolicyFamily.PERMISSIONS)
        _check_family(self.remove_admin_policy, PolicyFamily.PERMISSIONS)
        _check_family(self.update_permissions_policy, PolicyFamily.PERMISSIONS)

    @classmethod
    def default(cls) -> PolicySet:
        """Any member adds; admins remove; super admins manage admins and permissions."""
        return _preset_policy_set(BasePolicy.ALLOW, BasePolicy.ALLOW)

    @classmethod
    def admins_only(cls) -> PolicySet:
        """Only admins add, remove and edit metadata."""
        return _preset_policy_set(BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN, BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN)

    @classmethod
    def dm(cls) -> PolicySet:
        """Nobody changes members, admins or permissions; both parties edit every metadata field."""
        return cls(
            add_member_policy=BasePolicy.DENY,
            remove_member_policy=BasePolicy.DENY,
            update_metadata_policy={field.value: BasePolicy.ALLOW for field in MetadataField.supported()},
            add_admin_policy=BasePolicy.DENY,
            remove_admin_policy=BasePolicy.DENY,
            update_permissions_policy=BasePolicy.DENY,
        )

    def metadata_policy(self, field_name: str) -> Policy:
        """The policy for a metadata attribute; without one, "_"-prefixed keys are super-admin-only and
        every other key is admin-or-super-admin."""
        policy = self.update_metadata_policy.get(field_name)
        if policy is not None:
            return policy
        if field_name.startswith(SUPER_ADMIN_METADATA_PREFIX):
            return BasePolicy.ALLOW_IF_SUPER_ADMIN
        return BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN

    def updated(
        self,
        update_type: PermissionUpdateType,
        option: PermissionPolicyOption,
        metadata_field: MetadataField | str | None = None,
    ) -> PolicySet:
        """The set after a permission update (libxmtp UpdatePermissionIntentData::build_extensions)."""
        if update_type is PermissionUpdateType.ADD_MEMBER:
            return attrs.evolve(self, add_member_policy=option.policy(PolicyFamily.MEMBERSHIP))
        if update_type is PermissionUpdateType.REMOVE_MEMBER:
            return attrs.evolve(self, remove_member_policy=option.policy(PolicyFamily.MEMBERSHIP))
        if update_type is PermissionUpdateType.ADD_ADMIN:
            return attrs.evolve(self, add_admin_policy=option.policy(PolicyFamily.PERMISSIONS))
        if update_type is PermissionUpdateType.REMOVE_ADMIN:
            return attrs.evolve(self, remove_admin_policy=option.policy(PolicyFamily.PERMISSIONS))
        if metadata_field is None:
            raise errors.InvalidPermissionUpdate()
        key = metadata_field.value if isinstance(metadata_field, MetadataField) else metadata_field
        return attrs.evolve(
            self,
            update_metadata_policy=self.update_metadata_policy.set(key, option.policy(PolicyFamily.METADATA)),
        )

    def preset(self) -> Preset | None:
        """Which preset this set is equivalent to, by libxmtp's rules (extra metadata keys tolerated)."""
        if _matches_preset(self, BasePolicy.ALLOW, BasePolicy.ALLOW, disappearing=BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN):
            return Preset.DEFAULT
        admin = BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN
        if _matches_preset(self, admin, admin, disappearing=admin):
            return Preset.ADMINS_ONLY
        if self == PolicySet.dm():
            return Preset.DM
        return None

    def encode(self) -> bytes:
        """The protobuf PolicySet message (metadata map in key order)."""
        writer = ProtoWriter()
        writer.message(1, encode_policy(self.add_member_policy, PolicyFamily.MEMBERSHIP))
        writer.message(2, encode_policy(self.remove_member_policy, PolicyFamily.MEMBERSHIP))
        for key, policy in self.update_metadata_policy.items():
            entry = ProtoWriter().string(1, key).message(2, encode_policy(policy, PolicyFamily.METADATA))
            writer.message(3, entry.finish())
        writer.message(4, encode_policy(self.add_admin_policy, PolicyFamily.PERMISSIONS))
        writer.message(5, encode_policy(self.remove_admin_policy, PolicyFamily.PERMISSIONS))
        writer.message(6, encode_policy(self.update_permissions_policy, PolicyFamily.PERMISSIONS))
        return writer.finish()

    @classmethod
    def decode(cls, data: bytes) -> PolicySet:
        """Decode a PolicySet message; every non-metadata policy is required (DecodeError if absent)."""
        message = ProtoMessage(data)

        def required(field: int, family: PolicyFamily) -> Policy:
            raw = message.message(field)
            if raw is None:
                raise DecodeError(f"PolicySet field {field} is missing")
            return decode_policy(raw, family)

        metadata: dict[str, Policy] = {}
        for raw_entry in message.repeated_messages(3):
            entry = ProtoMessage(raw_entry)
            raw_value = entry.message(2)
            if raw_value is None:
                raise DecodeError("metadata policy entry without a policy")
            metadata[entry.string(1) or ""] = decode_policy(raw_value, PolicyFamily.METADATA)
        return cls(
            add_member_policy=required(1, PolicyFamily.MEMBERSHIP),
            remove_member_policy=required(2, PolicyFamily.MEMBERSHIP),
            update_metadata_policy=metadata,
            add_admin_policy=required(4, PolicyFamily.PERMISSIONS),
            remove_admin_policy=required(5, PolicyFamily.PERMISSIONS),
            update_permissions_policy=required(6, PolicyFamily.PERMISSIONS),
        )


SUPER_ADMIN_METADATA_PREFIX = "_"


class Preset(enum.Enum):
    """Named policy sets: DEFAULT (all members), ADMINS_ONLY, and DM."""

    DEFAULT = "default"
    ADMINS_ONLY = "admins_only"
    DM = "dm"

    def policy_set(self) -> PolicySet:
        if self is Preset.DEFAULT:
            return PolicySet.default()
        if self is Preset.ADMINS_ONLY:
            return PolicySet.admins_only()
        return PolicySet.dm()


def _metadata_defaults(ordinary: BasePolicy) -> dict[str, Policy]:
    policies: dict[str, Policy] = {}
    for field in MetadataField.supported():
        if field in (MetadataField.MESSAGE_DISAPPEAR_FROM_NS, MetadataField.MESSAGE_DISAPPEAR_IN_NS):
            policies[field.value] = BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN
        elif field is MetadataField.MINIMUM_SUPPORTED_PROTOCOL_VERSION:
            policies[field.value] = BasePolicy.ALLOW_IF_SUPER_ADMIN
        else:
            policies[field.value] = ordinary
    return policies


def _preset_policy_set(add_member: BasePolicy, metadata: BasePolicy) -> PolicySet:
    return PolicySet(
        add_member_policy=add_member,
        remove_member_policy=BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN,
        update_metadata_policy=_metadata_defaults(metadata),
        add_admin_policy=BasePolicy.ALLOW_IF_SUPER_ADMIN,
        remove_admin_policy=BasePolicy.ALLOW_IF_SUPER_ADMIN,
        update_permissions_policy=BasePolicy.ALLOW_IF_SUPER_ADMIN,
    )


def _matches_preset(policies: PolicySet, add_member: BasePolicy, ordinary: BasePolicy, *, disappearing: BasePolicy) -> bool:
    # libxmtp tolerates metadata keys added by newer versions as long as they follow the preset's
    # rule, and does not require every supported key to be present.
    disappearing_keys = (MetadataField.MESSAGE_DISAPPEAR_FROM_NS.value, MetadataField.MESSAGE_DISAPPEAR_IN_NS.value)
    for key, policy in policies.update_metadata_policy.items():
        if key in disappearing_keys:
            expected: Policy = disappearing
        elif key == MetadataField.MINIMUM_SUPPORTED_PROTOCOL_VERSION.value:
            expected = BasePolicy.ALLOW_IF_SUPER_ADMIN
        else:
            expected = ordinary
        if policy != expected:
            return False
    return (
        policies.add_member_policy == add_member
        and policies.remove_member_policy == BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN
        and policies.add_admin_policy == BasePolicy.ALLOW_IF_SUPER_ADMIN
        and policies.remove_admin_policy == BasePolicy.ALLOW_IF_SUPER_ADMIN
        and policies.update_permissions_policy == BasePolicy.ALLOW_IF_SUPER_ADMIN
    )
