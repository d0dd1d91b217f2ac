"""Application messages (RFC 9420 15, 6.3): encrypting application data as a PrivateMessage.

Receiving is ``process_message``, which decrypts with the current epoch's secret tree or, for
late messages, with one of the last ``MAX_PAST_EPOCHS`` epochs' trees. RFC 9420 12.4 asks a member
that has received proposals in this epoch to commit before sending application data; that is the
caller's policy to enforce (``state.pending`` tells), so it is not refused here.
"""

from __future__ import annotations

import attrs

from .seeds import check_seed
from .sending import authenticated, frame, protect
from .state import GroupState
from ..enums import WireFormat

__all__ = ["encrypt_application"]


def encrypt_application(
    state: GroupState, data: bytes, seed: bytes, authenticated_data: bytes = b"", *, padding_block: int = 0
) -> tuple[GroupState, bytes]:
    """Encrypt ``data`` for the group: (state without the used ratchet key, encoded MLSMessage).

    ``padding_block`` > 0 pads the plaintext to a multiple of that many bytes. NotAMember once we
    were removed.
    """
    seed = check_seed(seed)
    content = authenticated(state, frame(state, bytes(data), authenticated_data), WireFormat.PRIVATE_MESSAGE)
    message, secret_tree = protect(state, content, seed, padding_block=padding_block)
    return attrs.evolve(state, secret_tree=secret_tree), message
