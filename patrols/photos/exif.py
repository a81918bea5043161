"""What a photo's EXIF says: when it was taken and where."""

from __future__ import annotations

import datetime
import math
import re
import zoneinfo

from django.conf import settings
from django.contrib.gis.geos import Point
from django.utils import timezone
from PIL import ExifTags, Image

EXIF_TIME = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
EXIF_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def exif_text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value or "").strip("\x00 ")


def exif_taken_at(exif: Image.Exif) -> datetime.datetime | None:
    """Return when the photo was taken: DateTimeOriginal with its offset, else in the project's zone.

    Cameras write local time without a zone unless OffsetTimeOriginal is set; the patrols happen in
    the locality of TIME_ZONE (Asia/Shanghai), so that is how a bare time is read.
    """
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    for time_tag, offset_tag in (
        (ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal),
        (ExifTags.Base.DateTimeDigitized, ExifTags.Base.OffsetTimeDigitized),
    ):
        match = EXIF_TIME.match(exif_text(sub.get(time_tag)))
        if not match:
            continue
        try:
            naive = datetime.datetime(*(int(part) for part in match.groups()))
        except ValueError:  # 0000:00:00 00:00:00 and the like
            continue
        offset = EXIF_OFFSET.match(exif_text(sub.get(offset_tag)))
        if offset:
            sign, hours, minutes = offset.groups()
            delta = datetime.timedelta(hours=int(hours), minutes=int(minutes))
            zone: datetime.tzinfo = datetime.timezone(-delta if sign == "-" else delta)
        else:
            zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        taken_at = naive.replace(tzinfo=zone)
        # A camera clock never set (1970) or set in the future says nothing about when.
        if taken_at.year < 1990 or taken_at > timezone.now() + datetime.timedelta(days=1):
            return None
        return taken_at
    return None


def exif_degrees(value: object) -> float | None:
    """Return degrees from EXIF (degrees, minutes, seconds) rationals, or None when unusable."""
    parts = value if isinstance(value, tuple | list) else (value,)
    try:
        numbers = [float(part) for part in parts]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not 1 <= len(numbers) <= 3 or not all(math.isfinite(x) and x >= 0 for x in numbers):
        return None
    return sum(x / 60**i for i, x in enumerate(numbers))


def exif_position(exif: Image.Exif) -> Point | None:
    """Return the EXIF GPS position as a WGS84 lon/lat point, or None when absent or out of range."""
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    lat, lon = exif_degrees(gps.get(ExifTags.GPS.GPSLatitude)), exif_degrees(gps.get(ExifTags.GPS.GPSLongitude))
    if lat is None or lon is None:
        return None
    lat_ref = exif_text(gps.get(ExifTags.GPS.GPSLatitudeRef, "N")).upper()[:1]
    lon_ref = exif_text(gps.get(ExifTags.GPS.GPSLongitudeRef, "E")).upper()[:1]
    if lat_ref not in ("N", "S") or lon_ref not in ("E", "W"):
        return None
    lat, lon = (-lat if lat_ref == "S" else lat), (-lon if lon_ref == "W" else lon)
    # 0,0 is what some phones write without a fix, not a place on a river.
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return Point(lon, lat, srid=4326)
