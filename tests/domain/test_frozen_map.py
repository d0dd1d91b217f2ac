"""FrozenMap: order-independent equality, hashing, immutability, Python-readable repr."""

from hypothesis import given, strategies as st

from mlsgroup.domain.frozen_map import FrozenMap


def test_equality_and_hash_ignore_insertion_order():
    a = FrozenMap({"x": 1, "y": 2})
    b = FrozenMap([("y", 2), ("x", 1)])
    assert a == b == {"x": 1, "y": 2}
    assert hash(a) == hash(b)
    assert list(a) == ["x", "y"]
    assert a != FrozenMap({"x": 1})
    assert a != 3


def test_copies_on_write():
    a = FrozenMap({"x": 1})
    assert a.set("y", 2) == {"x": 1, "y": 2} and a == {"x": 1}
    assert a.delete("x", "z") == {} and "x" in a


def test_repr_reads_as_python():
    a = FrozenMap({b"k": "v"})
    assert eval(repr(a), {"FrozenMap": FrozenMap}) == a


@given(st.dictionaries(st.text(), st.integers()))
def test_behaves_like_its_dict(d):
    m = FrozenMap(d)
    assert dict(m) == d and len(m) == len(d)
    assert FrozenMap(m) == m
