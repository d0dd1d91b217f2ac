"""The MLS key schedule: epoch secrets, exporter, welcome key and confirmation tag (RFC 9420 section 8).

Functions take the cipher suite object and the serialized GroupContext of the new epoch as bytes,
so the schedule does not depend on the message structs. A missing ``psk_secret`` (no PSKs) is the
all-zero vector of ``KDF.Nh`` bytes.
"""

from __future__ import annotations

import hmac
from typing import Any

import attrs

from .cipher_suite import CipherSuite
from .errors import ConfirmationTagError, KeyScheduleError

__all__ = [
    "EpochSecrets",
    "joiner_secret",
    "member_secret",
    "welcome_secret",
    "welcome_key_nonce",
    "epoch_secret",
    "derive_epoch_secrets",
    "advance_epoch",
    "join_epoch",
    "external_key_pair",
    "mls_exporter",
    "confirmation_tag",
    "verify_confirmation_tag",
]


def _masked(_: Any) -> str:
    return "***"


def _secret(**kwargs: Any) -> Any:
    return attrs.field(repr=_masked, **kwargs)


@attrs.frozen
class EpochSecrets:
    """The secrets of one epoch (the epoch_secret itself is consumed and not kept).

    ``joiner_secret`` and ``welcome_secret`` are None when the epoch did not come from a
    joiner secret (a newly created group starts from a random epoch secret).
    """

    sender_data_secret: bytes = _secret()
    encryption_secret: bytes = _secret()
    exporter_secret: bytes = _secret()
    external_secret: bytes = _secret()
    confirmation_key: bytes = _secret()
    membership_key: bytes = _secret()
    resumption_psk: bytes = _secret()
    epoch_authenticator: bytes = _secret()
    init_secret: bytes = _secret()
    joiner_secret: bytes | None = _secret(default=None)
    welcome_secret: bytes | None = _secret(default=None)


def _check_secret(suite: CipherSuite, name: str, value: bytes) -> None:
    if len(value) != suite.hash_len:
        raise KeyScheduleError(f"{name} has {len(value)} bytes, the suite needs {suite.hash_len}")


def _psk_or_zero(suite: CipherSuite, psk_secret: bytes | None) -> bytes:
    if psk_secret is None:
        return bytes(suite.hash_len)
    _check_secret(suite, "psk_secret", psk_secret)
    return psk_secret


def joiner_secret(suite: CipherSuite, init_secret: bytes, commit_secret: bytes, group_context: bytes) -> bytes:
    """ExpandWithLabel(Extract(init_secret, commit_secret), "joiner", GroupContext, Nh)."""
    _check_secret(suite, "init_secret", init_secret)
    _check_secret(suite, "commit_secret", commit_secret)
    prk = suite.extract(init_secret, commit_secret)
    return suite.expand_with_label(prk, b"joiner", group_context, suite.hash_len)


def member_secret(suite: CipherSuite, joiner_secret_: bytes, psk_secret: bytes | None = None) -> bytes:
    """Extract(joiner_secret, psk_secret): the intermediate secret both welcome and epoch secrets come from."""
    _check_secret(suite, "joiner_secret", joiner_secret_)
    return suite.extract(joiner_secret_, _psk_or_zero(suite, psk_secret))


def welcome_secret(suite: CipherSuite, joiner_secret_: bytes, psk_secret: bytes | None = None) -> bytes:
    """DeriveSecret(member_secret, "welcome"): protects the GroupInfo of a Welcome."""
    return suite.derive_secret(member_secret(suite, joiner_secret_, psk_secret), b"welcome")


def welcome_key_nonce(suite: CipherSuite, welcome_secret_: bytes) -> tuple[bytes, bytes]:
    """(welcome_key, welcome_nonce) for encrypting the GroupInfo in a Welcome (RFC 9420 12.4.3.1)."""
    key = suite.expand_with_label(welcome_secret_, b"key", b"", suite.aead_key_len)
    nonce = suite.expand_with_label(welcome_secret_, b"nonce", b"", suite.aead_nonce_len)
    return key, nonce


def epoch_secret(
    suite: CipherSuite, joiner_secret_: bytes, group_context: bytes, psk_secret: bytes | None = None
) -> bytes:
    """ExpandWithLabel(member_secret, "epoch", GroupContext, Nh)."""
    secret = member_secret(suite, joiner_secret_, psk_secret)
    return suite.expand_with_label(secret, b"epoch", group_context, suite.hash_len)


def derive_epoch_secrets(
    suite: CipherSuite,
    epoch_secret_: bytes,
    *,
    joiner_secret: bytes | None = None,
    welcome_secret: bytes | None = None,
) -> EpochSecrets:
    """Every secret derived from ``epoch_secret`` (table "Epoch-Derived Secrets" and init_secret)."""
    _check_secret(suite, "epoch_secret", epoch_secret_)
    derive = suite.derive_secret
    return EpochSecrets(
        sender_data_secret=derive(epoch_secret_, b"sender data"),
        encryption_secret=derive(epoch_secret_, b"encryption"),
        exporter_secret=derive(epoch_secret_, b"exporter"),
        external_secret=derive(epoch_secret_, b"external"),
        confirmation_key=derive(epoch_secret_, b"confirm"),
        membership_key=derive(epoch_secret_, b"membership"),
        resumption_psk=derive(epoch_secret_, b"resumption"),
        epoch_authenticator=derive(epoch_secret_, b"authentication"),
        init_secret=derive(epoch_secret_, b"init"),
        joiner_secret=joiner_secret,
        welcome_secret=welcome_secret,
    )


def join_epoch(
    suite: CipherSuite, joiner_secret_: bytes, group_context: bytes, psk_secret: bytes | None = None
) -> EpochSecrets:
    """The epoch's secrets from its joiner secret, as a member joining by Welcome derives them."""
    member = member_secret(suite, joiner_secret_, psk_secret)
    return derive_epoch_secrets(
        suite,
        suite.expand_with_label(member, b"epoch", group_context, suite.hash_len),
        joiner_secret=joiner_secret_,
        welcome_secret=suite.derive_secret(member, b"welcome"),
    )


def advance_epoch(
    suite: CipherSuite,
    init_secret: bytes,
    commit_secret: bytes,
    group_context: bytes,
    psk_secret: bytes | None = None,
) -> EpochSecrets:
    """The next epoch's secrets from the previous init_secret, the commit secret and the new GroupContext."""
    return join_epoch(
        suite, joiner_secret(suite, init_secret, commit_secret, group_context), group_context, psk_secret
    )


def external_key_pair(suite: CipherSuite, external_secret: bytes) -> tuple[bytes, bytes]:
    """KEM.DeriveKeyPair(external_secret) -> (external_priv, external_pub), both serialized."""
    return suite.hpke_key_pair(external_secret)


def mls_exporter(suite: CipherSuite, exporter_secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """MLS-Exporter(label, context, length) (RFC 9420 8.5)."""
    derived = suite.derive_secret(exporter_secret, label)
    return suite.expand_with_label(derived, b"exported", suite.hash(context), length)


def confirmation_tag(suite: CipherSuite, confirmation_key: bytes, confirmed_transcript_hash: bytes) -> bytes:
    """MAC(confirmation_key, confirmed_transcript_hash)."""
    return suite.mac(confirmation_key, confirmed_transcript_hash)


def verify_confirmation_tag(
    suite: CipherSuite, confirmation_key: bytes, confirmed_transcript_hash: bytes, tag: bytes
) -> None:
    """Raise ConfirmationTagError unless ``tag`` is the confirmation tag of the transcript."""
    expected = suite.mac(confirmation_key, confirmed_transcript_hash)
    if not hmac.compare_digest(expected, tag):
        raise ConfirmationTagError("confirmation tag does not match the confirmed transcript hash")
