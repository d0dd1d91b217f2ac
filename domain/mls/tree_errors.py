"""Errors of the ratchet tree and TreeKEM (RFC 9420 sections 7 and 12.4.3.1): bad trees and bad update paths.

Remote faults (a tree or an UpdatePath another party sent) are ``ProtocolError`` subclasses; a caller
asking for something the tree cannot do (a leaf outside the tree, a blank sender) is a
``TreeUsageError``.
"""

from __future__ import annotations

from .errors import MlsError, ProtocolError

__all__ = [
    "TreeUsageError",
    "TreeValidationError",
    "TreeHashMismatch",
    "ParentHashMismatch",
    "UnmergedLeavesError",
    "DuplicateKeyError",
    "LeafNodeValidationError",
    "InvalidProposalTarget",
    "UpdatePathError",
    "PathLengthMismatch",
    "PathKeyMismatch",
    "PathDecryptionError",
]


class TreeUsageError(MlsError, ValueError):
    """The caller asked the tree for something it cannot do (index out of range, blank node, ...)."""


class TreeValidationError(ProtocolError):
    """A ratchet tree received from another party violates RFC 9420 (7.9.2, 12.4.3.1)."""


class TreeHashMismatch(TreeValidationError):
    """The root tree hash differs from the tree_hash the GroupContext commits to."""


class ParentHashMismatch(TreeValidationError):
    """A parent node is not parent-hash valid, or a leaf's parent_hash does not match its path."""


class UnmergedLeavesError(TreeValidationError):
    """An unmerged_leaves list is unsorted, names a blank or foreign leaf, or skips an intermediate node."""


class DuplicateKeyError(TreeValidationError):
    """An HPKE encryption key or a signature key appears in more than one node."""


class LeafNodeValidationError(TreeValidationError):
    """A LeafNode fails the checks of RFC 9420 7.3 (signature, source, capabilities, lifetime)."""


class InvalidProposalTarget(ProtocolError):
    """A proposal names a leaf it cannot apply to (removing or updating a blank leaf)."""


class UpdatePathError(ProtocolError):
    """A received UpdatePath is malformed or inconsistent with the tree (RFC 9420 7.6, 12.4.2)."""


class PathLengthMismatch(UpdatePathError):
    """The UpdatePath has the wrong number of nodes or of ciphertexts for a copath resolution."""


class PathKeyMismatch(UpdatePathError):
    """A public key derived from a decrypted path secret differs from the one the UpdatePath carries."""


class PathDecryptionError(UpdatePathError):
    """The path secret meant for us could not be found or decrypted."""
