"""Reading and writing GPX tracks. Pure helpers: no models are imported here."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from xml.etree import ElementTree

GPX_NS = "http://www.topografix.com/GPX/1/1"
GPX10_NS = "http://www.topografix.com/GPX/1/0"


class GpxError(ValueError):
    """A file that is not a usable GPX track."""


@dataclass(frozen=True)
class Fix:
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


def gpx_read(data: bytes) -> list[Fix]:
    """Return the track points (trkpt, else rtept) of a GPX 1.0/1.1 document, in file order.

    An hdop value, where present, is taken as the accuracy (metres ≈ hdop × 5 for phone receivers).
    """
    try:
        root = ElementTree.fromstring(data)  # expat refuses entity expansion bombs (Python ≥ 3.7.1)
    except ElementTree.ParseError as exc:
        raise GpxError(f"不是有效的 GPX / not valid GPX XML: {exc}") from exc
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if namespace not in (GPX_NS, GPX10_NS) or not root.tag.endswith("gpx"):
        raise GpxError("不是 GPX 文件 / not a GPX document")
    ns = {"g": namespace}
    elements = root.findall(".//g:trkpt", ns) or root.findall(".//g:rtept", ns)
    if not elements:
        raise GpxError("GPX 中没有轨迹点 / the GPX has no track points")
    fixes = []
    for index, element in enumerate(elements):
        try:
            lon, lat = float(element.get("lon", "")), float(element.get("lat", ""))
        except ValueError as exc:
            raise GpxError(f"第 {index} 个点坐标无效 / point {index}: bad lon/lat") from exc
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise GpxError(f"第 {index} 个点坐标超出范围 / point {index}: lon/lat out of range")
        try:
            recorded_at = _time(element.findtext("g:time", namespaces=ns))
        except ValueError as exc:
            raise GpxError(f"第 {index} 个点时间无效 / point {index}: bad time") from exc
        hdop = element.findtext("g:hdop", namespaces=ns)
        fixes.append(Fix(lon, lat, recorded_at, float(hdop) * 5 if hdop else None))
    return fixes


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
