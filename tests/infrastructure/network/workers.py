"""Functions that spawned worker processes run against a shared network (imported by module name)."""

from __future__ import annotations

import time
from typing import Any

from mlsgroup.domain.identity import IdentityUpdate
from mlsgroup.domain.identity_errors import UnexpectedSequenceId
from mlsgroup.infrastructure.network import Network


def open_network(spec: tuple[str, ...]) -> Network:
    if spec[0] == "sqlite":
        return Network.sqlite(spec[1])
    return Network.postgres(spec[1], schema=spec[2], pool_size=1)


def race_and_append(
    spec: tuple[str, ...],
    worker: int,
    topics: tuple[bytes, bytes],
    batches: int,
    identity_update: bytes,
    barrier: Any,
    results: Any,
) -> None:
    """Publish one identity update racing the other workers, then append ``batches`` batches of 1-3
    payloads alternately to two shared topics; report what the network answered."""
    with open_network(spec) as net:
        barrier.wait(timeout=60)
        try:
            net.identity.publish_identity_update(IdentityUpdate.decode(identity_update))
            won = True
        except UnexpectedSequenceId:
            won = False
        sent: list[tuple[bytes, bytes, int]] = []
        for batch in range(batches):
            topic = topics[batch % 2]
            payloads = [f"w{worker}-b{batch}-{j}".encode() for j in range(1 + (worker + batch) % 3)]
            cursors = net.api.send_group_messages(topic, payloads)
            sent.extend(zip([topic] * len(payloads), payloads, cursors))
            # SQLite's busy handler favours the last lock holder; a pause lets the others in.
            time.sleep(0.002)
    results.put((worker, won, sent))
