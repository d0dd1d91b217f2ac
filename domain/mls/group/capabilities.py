"""Group-level capability checks (RFC 9420 7.3, 11.1, 12.1.7): what every member must support.

A member's LeafNode must list the group's required capabilities (non-default extension and
proposal types, and credential types) and every non-default GroupContext extension type; every
credential type in use must be supported by every member. Default proposal and extension types
are implemented by everyone and never need listing.
"""

from __future__ import annotations

from typing import Iterable, Optional

from ..enums import DEFAULT_EXTENSION_TYPES, DEFAULT_PROPOSAL_TYPES, ExtensionType
from ..errors import DecodeError
from ..extensions import Extension, RequiredCapabilities, find_extension
from ..ratchet_tree import RatchetTree
from ..tree_structs import LeafNode
from .errors import CapabilityNotSupported, InvalidProposal

__all__ = [
    "GroupRequirements",
    "check_group_extensions_supported",
    "check_credential_types",
]


class GroupRequirements:
    """What the GroupContext extensions require of each member's LeafNode."""

    __slots__ = ("extension_types", "proposal_types", "credential_types")

    def __init__(self, extensions: Iterable[Extension]) -> None:
        extensions = tuple(extensions)
        types = {e.extension_type for e in extensions}
        if len(types) != len(extensions):
            raise InvalidProposal("the GroupContext extensions list an extension type twice")
        required: Optional[RequiredCapabilities] = None
        found = find_extension(extensions, ExtensionType.REQUIRED_CAPABILITIES)
        if found is not None:
            try:
                required = found.parse(RequiredCapabilities)
            except DecodeError as exc:
                raise InvalidProposal(f"malformed required_capabilities extension: {exc}") from None
        needed_extensions = set(types)
        needed_proposals: set[int] = set()
        needed_credentials: set[int] = set()
        if required is not None:
            needed_extensions.update(required.extension_types)
            needed_proposals.update(required.proposal_types)
            needed_credentials.update(required.credential_types)
        self.extension_types = frozenset(needed_extensions - DEFAULT_EXTENSION_TYPES)
        self.proposal_types = frozenset(needed_proposals - DEFAULT_PROPOSAL_TYPES)
        self.credential_types = frozenset(needed_credentials)

    def problem(self, leaf: LeafNode) -> Optional[str]:
        """Why ``leaf`` does not meet the requirements, or None."""
        capabilities = leaf.capabilities
        missing = self.extension_types.difference(capabilities.extensions)
        if missing:
            return f"the leaf does not support extension types {sorted(missing)}"
        missing = self.proposal_types.difference(capabilities.proposals)
        if missing:
            return f"the leaf does not support proposal types {sorted(missing)}"
        missing = self.credential_types.difference(capabilities.credentials)
        if missing:
            return f"the leaf does not support credential types {sorted(missing)}"
        return None

    def check(self, leaf: LeafNode) -> None:
        problem = self.problem(leaf)
        if problem is not None:
            raise CapabilityNotSupported(problem)


def check_group_extensions_supported(extensions: Iterable[Extension], tree: RatchetTree) -> None:
    """CapabilityNotSupported unless every member meets the requirements of ``extensions``."""
    requirements = GroupRequirements(extensions)
    if not (requirements.extension_types or requirements.proposal_types or requirements.credential_types):
        return
    for index, leaf in tree.leaves():
        problem = requirements.problem(leaf)
        if problem is not None:
            raise CapabilityNotSupported(f"member {index}: {problem}")


def check_credential_types(tree: RatchetTree) -> None:
    """CapabilityNotSupported unless every member supports every credential type in use (7.3)."""
    leaves = [leaf for _, leaf in tree.leaves()]
    in_use = {leaf.credential.TAG for leaf in leaves}
    if len(in_use) == 1:
        kind = next(iter(in_use))
        for leaf in leaves:
            if kind not in leaf.capabilities.credentials:
                raise CapabilityNotSupported(f"a member does not support credential type {kind}")
        return
    for leaf in leaves:
        missing = in_use.difference(leaf.capabilities.credentials)
        if missing:
            raise CapabilityNotSupported(f"a member does not support credential types {sorted(missing)}")
