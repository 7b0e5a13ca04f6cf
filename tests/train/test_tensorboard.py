"""TensorBoard event files written by hand: CRC32C, framing, protobuf, read back."""

import importlib.util
import struct

import pytest

from axonic.train import TensorBoard
from axonic.train.tfevents import (
    EventFileWriter,
    crc32c,
    decode_event,
    encode_event,
    masked_crc32c,
    read_events,
    read_records,
)
from tests.train import tiny


def test_crc32c_known_values():
    assert crc32c(b"123456789") == 0xE3069283  # the standard check value
    assert crc32c(b"") == 0
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4 test vector: 32 zero bytes
    assert masked_crc32c(b"") == 0xA282EAD8


def test_event_encoding_round_trips():
    msg = encode_event(1.5, 7, scalars={"loss": 0.25, "val_loss": -3.0})
    e = decode_event(msg)
    assert e["wall_time"] == 1.5 and e["step"] == 7
    assert e["scalars"] == {"loss": 0.25, "val_loss": -3.0}
    assert msg[:1] == b"\x09"  # field 1, wire type 1 (double)


def test_corrupted_record_is_detected(tmp_path):
    w = EventFileWriter(tmp_path)
    w.add_scalar("loss", 1.0, 0)
    w.close()
    data = bytearray(w.path.read_bytes())
    data[-6] ^= 0xFF
    w.path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="bad data CRC"):
        read_records(w.path)


def test_tensorboard_callback_writes_scalars_tensorboard_reads(tmp_path):
    t = tiny.trainer(callbacks=[TensorBoard(tmp_path, update_freq=2)])
    h = t.fit(tiny.data(), validation=tiny.data(8, seed=1), epochs=3, batch_size=8, verbose=0)
    (path,) = tmp_path.glob("events.out.tfevents.*")
    events = read_events(path)
    assert events[0]["file_version"] == "brain.Event:2"
    epochs = [e for e in events if "epoch_loss" in e["scalars"]]
    assert [e["step"] for e in epochs] == [0, 1, 2]
    for e, loss, val in zip(epochs, h.history["loss"], h.history["val_loss"]):
        assert e["scalars"]["epoch_loss"] == pytest.approx(loss, rel=1e-6)
        assert e["scalars"]["epoch_val_loss"] == pytest.approx(val, rel=1e-6)
    assert [e["step"] for e in events if "batch_loss" in e["scalars"]] == list(range(2, 19, 2))
    header = path.read_bytes()[:12]
    assert struct.unpack("<I", header[8:])[0] == masked_crc32c(header[:8])
    if importlib.util.find_spec("tensorboard") is not None:  # the real reader, when installed
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

        got = {}
        for ev in EventFileLoader(str(path)).Load():
            for v in ev.summary.value:
                got.setdefault(v.tag, []).append(ev.step)
        assert got["epoch_loss"] == [0, 1, 2]
