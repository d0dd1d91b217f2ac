"""XMTP's MLS configuration constants (spec sections 1 and 10)."""

from mlsgroup.domain import configuration as c


def test_values():
    assert c.CIPHERSUITE == 3
    assert set(c.REQUIRED_EXTENSION_TYPES) == {0xFF00, 0xFF01, 0xFF02, 0xF000, 0x000A, 0x0001}
    assert c.REQUIRED_PROPOSAL_TYPES == (0x0007,) and c.REQUIRED_CREDENTIAL_TYPES == (0x0001,)
    assert (c.MAX_INSTALLATIONS_PER_INBOX, c.MAX_PAST_EPOCHS, c.MAX_INTENT_PUBLISH_ATTEMPTS) == (10, 3, 3)
    assert c.KEY_PACKAGE_LIFETIME_S == 84 * 86400
    assert c.GROUP_KEY_ROTATION_INTERVAL_NS == c.KEY_PACKAGE_ROTATION_INTERVAL_NS == 30 * 86400 * 10**9
    assert c.GROUP_ID_LENGTH == 16
