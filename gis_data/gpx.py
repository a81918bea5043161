"""Reading and writing GPX tracks. Pure helpers: no models are imported here."""

from __future__ import annotations

import datetime
import io
import math
from typing import BinaryIO, NamedTuple
from xml.etree import ElementTree

GPX_NS = "http://www.topografix.com/GPX/1/1"
GPX10_NS = "http://www.topografix.com/GPX/1/0"
READ_CHUNK_BYTES = 1024 * 1024


class GpxError(ValueError):
    """A file that is not a usable GPX track."""


class Fix(NamedTuple):  # a tuple: 200,000 of them are made for one long GPX file
    lon: float
    lat: float
    recorded_at: datetime.datetime
    accuracy_m: float | None = None


def _time(text: str | None) -> datetime.datetime:
    if not text:
        raise GpxError("轨迹点缺少时间 / a track point has no <time>")
    value = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value


def gpx_read(source: bytes | BinaryIO, *, max_points: int | None = None) -> list[Fix]:
    """Return the track points (trkpt, else rtept) of a GPX 1.0/1.1 document, in file order.

    The document is read as a stream (a 200,000-point file never becomes a tree), and a file with more
    than `max_points` points is refused as soon as the next one is seen. An hdop value, where present,
    is taken as the accuracy (metres ≈ hdop × 5 for phone receivers).
    """
    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    # expat refuses entity expansion bombs (Python ≥ 3.7.1), the pull parser included.
    parser = ElementTree.XMLPullParser(events=("end",))
    points: dict[str, list[Fix]] = {}
    namespace = tag = None
    try:
        while chunk := stream.read(READ_CHUNK_BYTES):
            parser.feed(chunk)
            for _, element in parser.read_events():
                if namespace is None:  # the first element closed tells the document's namespace
                    namespace = element.tag[1:].split("}")[0] if element.tag.startswith("{") else ""
                    if namespace not in (GPX_NS, GPX10_NS):
                        raise GpxError("不是 GPX 文件 / not a GPX document")
                    points = {f"{{{namespace}}}trkpt": [], f"{{{namespace}}}rtept": []}
                    time_tag, hdop_tag = f"{{{namespace}}}time", f"{{{namespace}}}hdop"
                tag = element.tag
                found = points.get(tag)
                if found is None:
                    continue
                if max_points is not None and len(found) >= max_points:
                    raise GpxError(
                        f"GPX 轨迹点超过 {max_points} 个的上限 / the GPX has more than {max_points} points (the limit)"
                    )
                found.append(_fix(element, len(found), time_tag, hdop_tag))
                element.clear()  # what was read is dropped: memory stays small whatever the file's length
        parser.close()
    except ElementTree.ParseError as exc:
        raise GpxError(f"不是有效的 GPX / not valid GPX XML: {exc}") from exc
    if namespace is None or tag != f"{{{namespace}}}gpx":  # the last element closed is the root
        raise GpxError("不是 GPX 文件 / not a GPX document")
    fixes = points[f"{{{namespace}}}trkpt"] or points[f"{{{namespace}}}rtept"]
    if not fixes:
        raise GpxError("GPX 中没有轨迹点 / the GPX has no track points")
    return fixes


def _fix(element: ElementTree.Element, index: int, time_tag: str, hdop_tag: str) -> Fix:
    try:
        lon, lat = float(element.get("lon", "")), float(element.get("lat", ""))
    except ValueError as exc:
        raise GpxError(f"第 {index} 个点坐标无效 / point {index}: bad lon/lat") from exc
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise GpxError(f"第 {index} 个点坐标超出范围 / point {index}: lon/lat out of range")
    try:
        recorded_at = _time(element.findtext(time_tag))
    except ValueError as exc:
        raise GpxError(f"第 {index} 个点时间无效 / point {index}: bad time") from exc
    hdop_text = element.findtext(hdop_tag)
    if not hdop_text:
        return Fix(lon, lat, recorded_at)
    try:
        hdop = float(hdop_text)
    except ValueError:
        hdop = math.nan
    if not (math.isfinite(hdop) and hdop >= 0):
        raise GpxError(f"第 {index} 个点 hdop 无效 / point {index}: bad hdop")
    return Fix(lon, lat, recorded_at, hdop * 5)


def gpx_write(name: str, fixes: list[Fix]) -> bytes:
    """Return a GPX 1.1 document with one track of `fixes`."""
    ElementTree.register_namespace("", GPX_NS)
    root = ElementTree.Element(f"{{{GPX_NS}}}gpx", version="1.1", creator="river-chief-procuratorate")
    track = ElementTree.SubElement(root, f"{{{GPX_NS}}}trk")
    ElementTree.SubElement(track, f"{{{GPX_NS}}}name").text = name
    segment = ElementTree.SubElement(track, f"{{{GPX_NS}}}trkseg")
    for fix in fixes:
        point = ElementTree.SubElement(segment, f"{{{GPX_NS}}}trkpt", lat=f"{fix.lat:.7f}", lon=f"{fix.lon:.7f}")
        stamp = fix.recorded_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ElementTree.SubElement(point, f"{{{GPX_NS}}}time").text = stamp
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
