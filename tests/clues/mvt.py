"""Read the clue layers' vector tiles in tests: a small Mapbox Vector Tile (protobuf) decoder, points only.

The spec: https://github.com/mapbox/vector-tile-spec/tree/master/2.1 (Tile.layers = 3; Layer.name = 1,
features = 2, keys = 3, values = 4, extent = 5; Feature.id = 1, tags = 2, type = 3, geometry = 4).
"""

from __future__ import annotations

import math
import struct


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes):
    """Yield (field number, wire type, value) of a protobuf message; length-delimited values as bytes."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def _packed(data: bytes) -> list[int]:
    values, pos = [], 0
    while pos < len(data):
        value, pos = _varint(data, pos)
        values.append(value)
    return values


def _zigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def _value(data: bytes):
    for number, _, value in _fields(data):
        if number == 1:
            return value.decode()
        if number == 2:
            return struct.unpack("<f", value)[0]
        if number == 3:
            return struct.unpack("<d", value)[0]
        if number in (4, 5):
            return value
        if number == 6:
            return _zigzag(value)
        if number == 7:
            return bool(value)
    return None


def tile_decode(data: bytes) -> dict[str, list[dict]]:
    """Return {layer name: [feature properties + "x", "y" (tile units) of its first point]}."""
    layers = {}
    for number, _, raw in _fields(data):
        if number != 3:
            continue
        name, keys, values, features = "", [], [], []
        for field, _, value in _fields(raw):
            if field == 1:
                name = value.decode()
            elif field == 2:
                features.append(value)
            elif field == 3:
                keys.append(value.decode())
            elif field == 4:
                values.append(_value(value))
        decoded = []
        for feature in features:
            properties, geometry = {}, []
            for field, _, value in _fields(feature):
                if field == 2:
                    tags = _packed(value)
                    properties.update({keys[k]: values[v] for k, v in zip(tags[::2], tags[1::2], strict=True)})
                elif field == 4:
                    geometry = _packed(value)
            if len(geometry) >= 3:
                properties["x"], properties["y"] = _zigzag(geometry[1]), _zigzag(geometry[2])
            decoded.append(properties)
        layers[name] = decoded
    return layers


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Return the (x, y) of the Web Mercator tile of zoom `z` that holds the point."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y
