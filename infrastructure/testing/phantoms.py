"""Registered inboxes without clients ("phantoms"), to push a group past MAX_GROUP_SIZE cheaply
(libxmtp semantics section 1).

A phantom is a real inbox on the network's identity registry (a signed CreateInbox update) that never
uploads a key package: a size check must refuse an add of a batch of them before anything fetches
key packages. Phantoms are made once per network and reused.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

from mlsgroup.domain.identity import create_inbox, installation_key_pair

__all__ = ["phantom_inboxes"]

_REGISTERED: "weakref.WeakKeyDictionary[Any, list[str]]" = weakref.WeakKeyDictionary()


def phantom_inboxes(net: Any, count: int) -> list[str]:
    """``count`` inbox ids registered on ``net.identity`` that have no installation key package."""
    made = _REGISTERED.setdefault(net, [])
    while len(made) < count:
        private_key, _ = installation_key_pair(os.urandom(32))
        update = create_inbox(private_key, net.clock.now_ns())
        made.append(net.identity.publish_identity_update(update).inbox_id)
    return made[:count]
