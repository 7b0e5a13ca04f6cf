"""TensorBoard event files, by hand: TFRecord framing with masked CRC32C and the
``Event`` / ``Summary`` protobuf wire format for scalars. No TensorFlow needed.

A file is a sequence of records ``[uint64 length][uint32 masked_crc32c(length)][data]
[uint32 masked_crc32c(data)]`` (little-endian); each record's data is an ``Event``
message: ``wall_time`` (field 1, double), ``step`` (2, int64), ``file_version`` (3,
string, the first record's "brain.Event:2") or ``summary`` (5): repeated ``Value``
(1) with ``tag`` (1, string) and ``simple_value`` (2, float).

>>> import tempfile
>>> w = EventFileWriter(tempfile.mkdtemp())
>>> w.add_scalar("loss", 0.5, step=1); w.close()
>>> [(e["step"], e["scalars"]) for e in read_events(w.path) if e["scalars"]]
[(1, {'loss': 0.5})]
"""

from __future__ import annotations

import os
import socket
import struct
import time
from pathlib import Path


def _crc32c_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli). ``crc32c(b"123456789") == 0xE3069283``."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotate right by 15 and add a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame_record(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data
            + struct.pack("<I", masked_crc32c(data)))


# --- protobuf wire format -----------------------------------------------------------------
def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # int64 negatives are ten-byte two's complement
    out = bytearray()
    while True:
        bits = n & 0x7F
        n >>= 7
        if n:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint((field << 3) | wire)


def _bytes_field(field: int, payload: bytes) -> bytes:
    return _key(field, 2) + _varint(len(payload)) + payload


def encode_event(wall_time: float, step: int, file_version: str | None = None,
                 scalars: dict[str, float] | None = None) -> bytes:
    """An ``Event`` message holding a file version or a summary of scalars."""
    msg = _key(1, 1) + struct.pack("<d", wall_time) + _key(2, 0) + _varint(int(step))
    if file_version is not None:
        msg += _bytes_field(3, file_version.encode())
    if scalars:
        summary = b""
        for tag, value in scalars.items():
            val = _bytes_field(1, tag.encode()) + _key(2, 5) + struct.pack("<f", float(value))
            summary += _bytes_field(1, val)
        msg += _bytes_field(5, summary)
    return msg


def _parse(buf: bytes) -> list[tuple[int, int, object]]:
    """A message's fields as ``(number, wire_type, value)``; bytes for length-delimited."""
    fields, i = [], 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _read_varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = _read_varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"tfevents: unsupported protobuf wire type {wire}")
        fields.append((field, wire, value))
    return fields


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ValueError("tfevents: truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def decode_event(data: bytes) -> dict:
    """``{'wall_time', 'step', 'file_version', 'scalars': {tag: value}}`` from an Event."""
    event = {"wall_time": None, "step": 0, "file_version": None, "scalars": {}}
    for field, _, value in _parse(data):
        if field == 1:
            event["wall_time"] = struct.unpack("<d", value)[0]
        elif field == 2:
            event["step"] = value - (1 << 64) if value >= 1 << 63 else value
        elif field == 3:
            event["file_version"] = value.decode()
        elif field == 5:
            for vf, _, val in _parse(value):
                if vf != 1:
                    continue
                parts = {f: v for f, _, v in _parse(val)}
                if 1 in parts and 2 in parts:
                    event["scalars"][parts[1].decode()] = struct.unpack("<f", parts[2])[0]
    return event


def read_records(path) -> list[bytes]:
    """Every record's data, checking both CRCs of each."""
    data = Path(path).read_bytes()
    out, i = [], 0
    while i < len(data):
        if i + 12 > len(data):
            raise ValueError(f"tfevents: {path} is truncated at byte {i}")
        header = data[i:i + 8]
        (n,) = struct.unpack("<Q", header)
        (hcrc,) = struct.unpack("<I", data[i + 8:i + 12])
        if hcrc != masked_crc32c(header):
            raise ValueError(f"tfevents: {path}: bad length CRC at byte {i}")
        body = data[i + 12:i + 12 + n]
        if len(body) != n or i + 16 + n > len(data):
            raise ValueError(f"tfevents: {path} is truncated at byte {i}")
        (dcrc,) = struct.unpack("<I", data[i + 12 + n:i + 16 + n])
        if dcrc != masked_crc32c(body):
            raise ValueError(f"tfevents: {path}: bad data CRC in the record at byte {i}")
        out.append(body)
        i += 16 + n
    return out


def read_events(path) -> list[dict]:
    """Every event in a file, decoded (see ``decode_event``)."""
    return [decode_event(r) for r in read_records(path)]


class EventFileWriter:
    """Append scalar events to ``log_dir/events.out.tfevents.<time>.<host>``."""

    def __init__(self, log_dir, filename_suffix: str = ""):
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}" \
               f".{os.getpid()}{filename_suffix}"
        self.path = self.log_dir / name
        self._f = open(self.path, "ab")
        self._write(encode_event(time.time(), 0, file_version="brain.Event:2"))

    def _write(self, event: bytes) -> None:
        self._f.write(frame_record(event))

    def add_scalars(self, scalars: dict[str, float], step: int) -> None:
        self._write(encode_event(time.time(), step, scalars=scalars))

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        self.add_scalars({tag: value}, step)

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()
