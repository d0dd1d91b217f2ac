"""KeyPackage generation from a seed and KeyPackage validation (RFC 9420 section 10, 10.1, 7.3).

``generate_key_package`` derives the init, encryption and (unless given) signature key pairs from a
seed and returns a ``KeyPackageBundle``: the signed KeyPackage with the private keys a joiner needs,
whose reprs hide them. ``validate_key_package`` runs the checks of 10.1 and the KeyPackage part of
7.3 against an injected time ``now`` (seconds since the Unix epoch) and raises
``KeyPackageValidationError`` saying which check failed.
"""

from __future__ import annotations

from typing import Iterable, Optional

import attrs

from ..cipher_suite import SUPPORTED_SUITES, cipher_suite
from ..codec import Reader, Writer, decode_all
from ..credentials import Credential
from ..enums import CredentialType, LeafNodeSource, ProtocolVersion
from ..errors import CryptoError, DecodeError, SignatureError, UnsupportedCipherSuite
from ..extensions import DEFAULT_EXTENSION_TYPES, Extension
from ..key_packages import KeyPackage, KeyPackageTBS
from ..messages import MLSMessage
from ..secrets import Secret
from ..tree_structs import Capabilities, LeafNode, Lifetime
from .errors import GroupUsageError, KeyPackageValidationError
from .seeds import check_seed, expand_seed
from .wire_cache import key_package_bytes, key_package_signed_parts, remember_key_package_bytes

__all__ = [
    "MAX_U64",
    "KeyPackageBundle",
    "Signer",
    "default_capabilities",
    "generate_key_package",
    "sign_leaf_node",
    "validate_key_package",
    "check_leaf_capabilities",
    "decode_key_package_message",
]

MAX_U64 = (1 << 64) - 1

_LEAF_NODE_TBS = b"LeafNodeTBS"
_KEY_PACKAGE_TBS = b"KeyPackageTBS"


def _secret_field() -> object:
    return attrs.field(converter=Secret)


@attrs.frozen
class Signer:
    """A client's identity in a group: its credential and signature private key (repr hides it)."""

    suite_id: int
    credential: Credential
    signature_private: bytes = _secret_field()
    capabilities: Optional[Capabilities] = None

    @property
    def signature_public(self) -> bytes:
        return cipher_suite(self.suite_id).signature_public_from_private(self.signature_private)


@attrs.frozen
class KeyPackageBundle:
    """A signed KeyPackage and its private keys: what a client keeps to join by Welcome."""

    key_package: KeyPackage
    init_private: bytes = _secret_field()
    encryption_private: bytes = _secret_field()
    signature_private: bytes = _secret_field()

    @property
    def suite_id(self) -> int:
        return self.key_package.cipher_suite

    @property
    def leaf_node(self) -> LeafNode:
        return self.key_package.leaf_node

    @property
    def credential(self) -> Credential:
        return self.key_package.leaf_node.credential

    @property
    def ref(self) -> bytes:
        """The KeyPackageRef naming this KeyPackage in a Welcome."""
        return cipher_suite(self.suite_id).make_key_package_ref(key_package_bytes(self.key_package))

    @property
    def signer(self) -> Signer:
        return Signer(self.suite_id, self.credential, self.signature_private, self.leaf_node.capabilities)

    def message(self) -> bytes:
        """The KeyPackage as an encoded MLSMessage, as it is published."""
        return MLSMessage.wrap(self.key_package).encode()

    def encode(self) -> bytes:
        """The bundle, private keys included, for storage."""
        w = Writer()
        self.key_package._write(w)
        w.opaque(self.init_private)
        w.opaque(self.encryption_private)
        w.opaque(self.signature_private)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> "KeyPackageBundle":
        """The bundle ``encode`` wrote; DecodeError for anything else."""
        return decode_all(_BUNDLE, data)


class _BundleCodec:
    def read(self, r: Reader) -> KeyPackageBundle:
        return KeyPackageBundle(KeyPackage._read(r), r.opaque(), r.opaque(), r.opaque())


_BUNDLE = _BundleCodec()


def default_capabilities(suite_id: int, extension_types: Iterable[int] = ()) -> Capabilities:
    """Capabilities listing mls10, every supported suite (``suite_id`` first), basic and X.509
    credentials and the given non-default extension types."""
    suites = (suite_id,) + tuple(s for s in SUPPORTED_SUITES if s != suite_id)
    extensions = tuple(sorted({int(t) for t in extension_types} - set(DEFAULT_EXTENSION_TYPES)))
    return Capabilities(
        (ProtocolVersion.MLS10,), suites, extensions, (), (CredentialType.BASIC, CredentialType.X509)
    )


def sign_leaf_node(
    suite_id: int, signature_private: bytes, leaf: LeafNode, group_id: bytes | None = None, leaf_index: int | None = None
) -> LeafNode:
    """``leaf`` with its signature over LeafNodeTBS (group id and leaf index for update/commit leaves)."""
    suite = cipher_suite(suite_id)
    unsigned = attrs.evolve(leaf, signature=b"")
    signature = suite.sign_with_label(signature_private, _LEAF_NODE_TBS, unsigned.tbs(group_id, leaf_index))
    return attrs.evolve(leaf, signature=signature)


def _check_listed(capabilities: Capabilities, extensions: Iterable[Extension], where: str) -> str | None:
    listed = set(capabilities.extensions)
    extensions = tuple(extensions)
    if len({e.extension_type for e in extensions}) != len(extensions):
        return f"the {where} extensions list an extension type twice"
    for extension in extensions:
        kind = extension.extension_type
        if kind not in DEFAULT_EXTENSION_TYPES and kind not in listed:
            return f"{where} extension type {kind} is not listed in the leaf's capabilities"
    return None


def check_leaf_capabilities(leaf: LeafNode) -> str | None:
    """Why ``leaf`` is inconsistent with its own capabilities (RFC 9420 7.2), or None if it is not."""
    capabilities = leaf.capabilities
    if leaf.credential.TAG not in capabilities.credentials:
        return f"credential type {leaf.credential.TAG} is not listed in the leaf's capabilities"
    return _check_listed(capabilities, leaf.extensions, "leaf node")


def generate_key_package(
    suite_id: int,
    credential: Credential,
    seed: bytes,
    *,
    not_before: int,
    not_after: int,
    capabilities: Capabilities | None = None,
    extensions: Iterable[Extension] = (),
    leaf_extensions: Iterable[Extension] = (),
    signature_private: bytes | None = None,
) -> KeyPackageBundle:
    """A new KeyPackage for ``credential``, every key pair derived from ``seed``.

    ``signature_private`` signs it when given (a client's long-lived identity key); otherwise a
    signature key pair is derived from the seed too. ``capabilities`` defaults to
    ``default_capabilities`` listing the non-default extension types used. GroupUsageError if the
    request would produce an invalid KeyPackage.
    """
    suite = cipher_suite(suite_id)
    seed = check_seed(seed)
    extensions = tuple(extensions)
    leaf_extensions = tuple(leaf_extensions)
    if not 0 <= not_before <= not_after <= MAX_U64:
        raise GroupUsageError("the lifetime needs 0 <= not_before <= not_after < 2**64")
    if signature_private is None:
        signature_private, signature_public = suite.signature_key_pair(
            expand_seed(suite, seed, b"signature key", 32)
        )
    else:
        try:
            signature_public = suite.signature_public_from_private(signature_private)
        except CryptoError as exc:
            raise GroupUsageError(f"invalid signature private key: {exc}") from None
    init_private, init_public = suite.hpke_key_pair(expand_seed(suite, seed, b"init key", suite.hash_len))
    encryption_private, encryption_public = suite.hpke_key_pair(
        expand_seed(suite, seed, b"encryption key", suite.hash_len)
    )
    if capabilities is None:
        capabilities = default_capabilities(
            suite_id, [e.extension_type for e in extensions + leaf_extensions]
        )
    leaf = LeafNode(
        encryption_public,
        signature_public,
        credential,
        capabilities,
        Lifetime(not_before, not_after),
        leaf_extensions,
        b"",
    )
    problem = check_leaf_capabilities(leaf) or _check_listed(capabilities, extensions, "key package")
    if problem is None and suite_id not in capabilities.cipher_suites:
        problem = f"cipher suite {suite_id} is not listed in the capabilities"
    if problem is None and ProtocolVersion.MLS10 not in capabilities.versions:
        problem = "mls10 is not listed in the capabilities"
    if problem is not None:
        raise GroupUsageError(problem)
    leaf = sign_leaf_node(suite_id, signature_private, leaf)
    tbs = KeyPackageTBS(ProtocolVersion.MLS10, suite_id, init_public, leaf, extensions)
    key_package = tbs.signed(suite.sign_with_label(signature_private, _KEY_PACKAGE_TBS, tbs.encode()))
    return KeyPackageBundle(key_package, init_private, encryption_private, signature_private)


def validate_key_package(key_package: KeyPackage, *, suite_id: int, now: int | None) -> None:
    """Raise KeyPackageValidationError unless ``key_package`` is valid for a group of ``suite_id``.

    Checks (RFC 9420 10.1, 7.3): version mls10 and the group's suite; a key_package leaf whose
    lifetime covers ``now`` (skipped when ``now`` is None); capabilities listing the suite, the
    version, the credential type and the leaf's non-default extension types; valid HPKE keys with
    init_key != encryption_key; the leaf signature and the KeyPackage signature. Group-level
    checks (required capabilities, uniqueness of keys) belong to proposal validation.
    """
    if key_package.version != ProtocolVersion.MLS10:
        raise KeyPackageValidationError(f"protocol version {key_package.version} is not mls10")
    if key_package.cipher_suite != suite_id:
        raise KeyPackageValidationError(
            f"cipher suite {key_package.cipher_suite} differs from the group's {suite_id}"
        )
    try:
        suite = cipher_suite(suite_id)
    except UnsupportedCipherSuite as exc:
        raise KeyPackageValidationError(str(exc)) from None
    leaf = key_package.leaf_node
    if leaf.source.TAG != LeafNodeSource.KEY_PACKAGE:
        raise KeyPackageValidationError("the leaf node's source is not key_package")
    lifetime = leaf.source
    if now is not None and not lifetime.not_before <= now <= lifetime.not_after:
        raise KeyPackageValidationError(
            f"time {now} is outside the lifetime [{lifetime.not_before}, {lifetime.not_after}]"
        )
    capabilities = leaf.capabilities
    if suite_id not in capabilities.cipher_suites:
        raise KeyPackageValidationError(f"the capabilities do not list cipher suite {suite_id}")
    if ProtocolVersion.MLS10 not in capabilities.versions:
        raise KeyPackageValidationError("the capabilities do not list mls10")
    problem = check_leaf_capabilities(leaf)
    if problem is None and len({e.extension_type for e in key_package.extensions}) != len(key_package.extensions):
        problem = "the key package extensions list an extension type twice"
    if problem is not None:
        raise KeyPackageValidationError(problem)
    if key_package.init_key == leaf.encryption_key:
        raise KeyPackageValidationError("init_key equals the leaf's encryption_key")
    kem = suite.hpke.kem
    try:
        kem.check_public_key(key_package.init_key)
        kem.check_public_key(leaf.encryption_key)
    except (CryptoError, ValueError) as exc:
        raise KeyPackageValidationError(f"invalid HPKE public key: {exc}") from None
    key_package_tbs, leaf_tbs = key_package_signed_parts(key_package)
    try:
        suite.verify_with_label(leaf.signature_key, _LEAF_NODE_TBS, leaf_tbs, leaf.signature)
    except SignatureError:
        raise KeyPackageValidationError("the leaf node signature does not verify") from None
    try:
        suite.verify_with_label(leaf.signature_key, _KEY_PACKAGE_TBS, key_package_tbs, key_package.signature)
    except SignatureError:
        raise KeyPackageValidationError("the KeyPackage signature does not verify") from None


def decode_key_package_message(data: bytes) -> KeyPackage:
    """The KeyPackage of an encoded MLSMessage; DecodeError if it carries anything else."""
    message = MLSMessage.decode(data)
    if not isinstance(message.body, KeyPackage):
        raise DecodeError("the MLSMessage does not carry a KeyPackage")
    if message.body.version != message.version:
        raise DecodeError("the KeyPackage version differs from the MLSMessage version")
    remember_key_package_bytes(message.body, bytes(data[4:]))
    return message.body

