"""The pickle interpreter behind axonic.load of .pt files agrees with Python's pickle on
plain data for every protocol torch may write, and refuses what it does not admit."""

import codecs
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axonic.io import CheckpointError, ForbiddenGlobalError
from axonic.io.pickle_vm import unpickle

PLAIN = {"_codecs.encode": codecs.encode}  # protocol 2 spells bytes as _codecs.encode(str)
for fn in (set, frozenset, bytes):
    PLAIN[f"builtins.{fn.__name__}"] = PLAIN[f"__builtin__.{fn.__name__}"] = fn

scalars = (st.none() | st.booleans() | st.integers() | st.integers(-2**200, 2**200)
           | st.floats(allow_nan=False) | st.text() | st.binary())
keys = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.tuples(inner, inner) | st.dictionaries(keys, inner, max_size=4)
                      | st.frozensets(st.integers(), max_size=3), max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(values, st.sampled_from([2, 3, 4, 5]))
def test_plain_values_read_back_as_pickle_reads_them(obj, protocol):
    data = pickle.dumps(obj, protocol=protocol)
    got, end = unpickle(data, "<test>", PLAIN)
    assert got == pickle.loads(data) and end == len(data)


def test_shared_and_self_referencing_containers_keep_their_identity():
    inner = [1, 2]
    obj = {"a": inner, "b": inner}
    got, _ = unpickle(pickle.dumps(obj, protocol=2), "<test>", PLAIN)
    assert got["a"] is got["b"]
    loop = []
    loop.append(loop)
    got, _ = unpickle(pickle.dumps(loop, protocol=4), "<test>", PLAIN)
    assert got[0] is got


def test_refusals_name_the_source_and_the_reason():
    with pytest.raises(ForbiddenGlobalError, match=r"^f.pt: refuses the global "
                                                   r"'builtins.print'"):
        unpickle(pickle.dumps(print, protocol=4), "f.pt", PLAIN)
    with pytest.raises(CheckpointError, match=r"f.pt: pickle opcode b'I' at offset 0 is not "
                                              "admitted"):
        unpickle(b"I1\n.", "f.pt", PLAIN)  # protocol 0 text: not what torch.save writes
    with pytest.raises(CheckpointError, match=r"f.pt: pickle data is truncated \(needs 1000 "
                                              r"bytes at offset 7, the file has 2 left"):
        unpickle(b"\x80\x02X\xe8\x03\x00\x00ab", "f.pt", PLAIN)
    with pytest.raises(CheckpointError, match=r"pickle data is corrupted \(memo entry 3 read "
                                              "before it was written\\)"):
        unpickle(b"\x80\x02h\x03.", "f.pt", PLAIN)
    with pytest.raises(CheckpointError, match="pickle protocol 9; at most 5 exists"):
        unpickle(b"\x80\x09N.", "f.pt", PLAIN)
    with pytest.raises(ForbiddenGlobalError, match="pickle data calls a list, which is not an "
                                                   "admitted global"):
        unpickle(b"\x80\x02])R.", "f.pt", PLAIN)  # a list on the stack used as a function
    with pytest.raises(CheckpointError, match=r"2 objects left at STOP, expected 1"):
        unpickle(b"\x80\x02NN.", "f.pt", PLAIN)
