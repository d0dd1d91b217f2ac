"""Metadata attribute keys and their length limits."""

from mlsgroup.domain.metadata_fields import MetadataField, length_limit


def test_keys():
    assert MetadataField.GROUP_NAME.value == "group_name"
    assert MetadataField.GROUP_IMAGE_URL_SQUARE.value == "group_image_url_square"
    assert MetadataField.COMMIT_LOG_SIGNER.value.startswith("_")
    assert MetadataField.COMMIT_LOG_SIGNER not in MetadataField.supported()
    assert len(MetadataField.supported()) == 7


def test_limits():
    assert MetadataField.GROUP_NAME.max_length == 100
    assert MetadataField.DESCRIPTION.max_length == 1000
    assert MetadataField.GROUP_IMAGE_URL_SQUARE.max_length == 2048
    assert MetadataField.APP_DATA.max_length == 8192
    assert MetadataField.MESSAGE_DISAPPEAR_IN_NS.max_length is None
    assert length_limit("custom") is None
