"""Checks welcome.json: decrypting a Welcome for a KeyPackage and verifying its GroupInfo (RFC 9420 12.4.3.1).

The entry's KeyPackage (an MLSMessage) names our Welcome entry; ``init_priv`` decrypts the
GroupSecrets, the joiner secret (no PSKs) the GroupInfo, whose signature must verify under
``signer_pub`` and whose confirmation tag must match the epoch's confirmation key and the
GroupContext's confirmed transcript hash.
"""

from __future__ import annotations

from typing import Any

from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.errors import MlsError
from mlsgroup.domain.mls.group.join import decode_welcome, open_welcome, verify_group_info_signature
from mlsgroup.domain.mls.group.key_package_bundles import decode_key_package_message
from mlsgroup.domain.mls.key_schedule import join_epoch, verify_confirmation_tag

from . import VectorMismatch

__all__ = ["FILE", "check"]

FILE = "welcome.json"


def check(entry: dict[str, Any]) -> None:
    suite_id = entry["cipher_suite"]
    suite = cipher_suite(suite_id)
    try:
        key_package = decode_key_package_message(bytes.fromhex(entry["key_package"]))
        welcome = decode_welcome(bytes.fromhex(entry["welcome"]))
        ref = suite.make_key_package_ref(key_package.encode())
        opened = open_welcome(welcome, ref, bytes.fromhex(entry["init_priv"]), suite_id)
        group_info = opened.group_info
        verify_group_info_signature(suite, group_info, bytes.fromhex(entry["signer_pub"]))
        context = group_info.group_context
        secrets = join_epoch(suite, opened.group_secrets.joiner_secret, context.encode(), opened.psk_secret)
        verify_confirmation_tag(
            suite, secrets.confirmation_key, context.confirmed_transcript_hash, group_info.confirmation_tag
        )
    except MlsError as exc:
        raise VectorMismatch(f"{type(exc).__name__}: {exc}") from exc
