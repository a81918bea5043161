"""Photos of findings (issue 4 §5, §7): uploads checked by content, idempotent by client_id, processed
into upright metadata-free copies, served by the access rules, and swept when processing stalled.

The synthetic city of tests.factories: a finding of 甲区's river office at 4 km east, 1.05 km north
(in 甲区, 50 m north of INSIDE). Images are made here with Pillow; none is read from disk.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import struct
import time
import uuid
import zlib
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from PIL import ExifTags, Image, ImageChops, ImageCms
from rest_framework.test import APIClient

from clues.evidence import findings_visible_to
from clues.registration import clue_from_finding
from clues.workflow import clue_step
from config.celery import app as celery_app
from patrols.models import Finding, Patrol, PatrolParticipant, Photo, PhotoStatus
from patrols.photos import photo_process, photos_requeue_stale
from patrols.photos.processing import DISPLAY_RESAMPLING, ORIENTATION_TRANSPOSE, render, upright_display
from rivers.models import Agency
from tests.factories import at, point
from tests.patrols.conftest import client_for

# Where the photos below were "taken": 4 km east, 1.05 km north of the origin (106°E, 29°N), 甲区.
PHOTO_LON, PHOTO_LAT = at(4_000, 1_050)
TAKEN = "2026:05:12 09:30:15"  # local time on the camera
TAKEN_UTC = datetime.datetime(2026, 5, 12, 1, 30, 15, tzinfo=datetime.UTC)  # 09:30:15 at +08:00


# --- images ---------------------------------------------------------------------------------------


def dms(degrees: float) -> tuple[float, float, float]:
    """Split decimal degrees into EXIF (degrees, minutes, seconds), seconds to 1/1000 (3 cm)."""
    whole = int(degrees)
    minutes = int((degrees - whole) * 60)
    seconds = round(((degrees - whole) * 60 - minutes) * 60, 3)
    return float(whole), float(minutes), seconds


def sensor_image(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A blue frame as the sensor saw it, with a red 10 % block in its top-left corner."""
    width, height = size
    image = Image.new(mode, size, (0, 0, 255) if mode == "RGB" else (0, 0, 255, 255))
    image.paste((255, 0, 0) if mode == "RGB" else (255, 0, 0, 255), (0, 0, width // 10, height // 10))
    return image


def exif_block(*, orientation: int = 1, gps: tuple[float, float] | None = None, taken: str | None = None,
               offset: str | None = None) -> bytes:  # fmt: skip
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "TestPhone"
    if taken:
        sub = {ExifTags.Base.DateTimeOriginal: taken}
        if offset:
            sub[ExifTags.Base.OffsetTimeOriginal] = offset
        exif[ExifTags.IFD.Exif] = sub
    if gps:
        lon, lat = gps
        exif[ExifTags.IFD.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N" if lat >= 0 else "S",
            ExifTags.GPS.GPSLatitude: dms(abs(lat)),
            ExifTags.GPS.GPSLongitudeRef: "E" if lon >= 0 else "W",
            ExifTags.GPS.GPSLongitude: dms(abs(lon)),
        }
    return exif.tobytes()


def encoded(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def phone_jpeg(size=(800, 600), *, orientation=6, gps=(PHOTO_LON, PHOTO_LAT), taken=TAKEN, offset="+08:00") -> bytes:
    """A phone photo held upright: stored sideways (W×H) with EXIF orientation 6, position and time."""
    exif = exif_block(orientation=orientation, gps=gps, taken=taken, offset=offset)
    return encoded(sensor_image(size), "JPEG", quality=90, exif=exif)


def plain_png(size=(64, 48)) -> bytes:
    return encoded(sensor_image(size, "RGBA"), "PNG")


def plain_webp(size=(64, 48)) -> bytes:
    return encoded(sensor_image(size), "WEBP", quality=80)


def plain_heic(size=(64, 48)) -> bytes:
    return encoded(sensor_image(size), "HEIF", exif=exif_block(gps=(PHOTO_LON, PHOTO_LAT), taken=TAKEN))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A well-formed PNG header announcing width × height RGB pixels, with a token IDAT (~100 bytes)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 300
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)
HTML = b"<html><body><script>fetch('/api/v1/clues/').then(r => r.text()).then(alert)</script></body></html>"


# --- helpers --------------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in Path(media).rglob("*") if p.is_file()) if Path(media).exists() else []


def make_finding(user, agency_code: str, *, geom=None, patrol: Patrol | None = None) -> Finding:
    return Finding.objects.create(
        client_uuid=uuid.uuid4(),
        request_digest="test",
        patrol=patrol,
        reported_by=user,
        agency=Agency.objects.get(code=agency_code),
        category="illegal_discharge",
        description="排污口",
        geom=geom,
        found_at=timezone.now(),
    )


def joint_patrol(people, *participants: tuple[str, str]) -> Patrol:
    patrol = Patrol.objects.create(
        client_uuid=uuid.uuid4(),
        kind="joint",
        district=people["inside"].districts.get(),
        started_by=people["west_patrol"],
        started_at=timezone.now(),
    )
    for username, agency_code in participants:
        PatrolParticipant.objects.create(
            patrol=patrol, user=people[username], agency=Agency.objects.get(code=agency_code)
        )
    return patrol


def post_photo(client, finding: Finding, data: bytes, client_id=None, name="IMG_0001.jpg", content_type="image/jpeg"):
    return client.post(
        f"/api/v1/findings/{finding.pk}/photos/",
        {"client_id": str(client_id or uuid.uuid4()), "file": SimpleUploadedFile(name, data, content_type)},
        format="multipart",
    )


def metres_between(a, b) -> float:
    """Metres on the ground between two lon/lat points, as PostGIS measures them on the spheroid."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_Distance(%s::geography, %s::geography)", [a.ewkt, b.ewkt])
        return cursor.fetchone()[0]


@pytest.fixture
def finding(people, media):
    """A finding of 甲区's river office with no position yet (the phone had no fix)."""
    return make_finding(people["west_patrol"], "990001-RCO")


# --- uploads --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "maker, content_type, size",
    [
        (phone_jpeg, "image/jpeg", (800, 600)),
        (plain_png, "image/png", (64, 48)),
        (plain_webp, "image/webp", (64, 48)),
        (plain_heic, "image/heic", (64, 48)),
    ],
)
def test_accepted_formats_keep_the_original_untouched(
    people, finding, media, maker, content_type, size, django_capture_on_commit_callbacks
):
    data = maker()
    # The declared name and type are ignored: the content decides.
    with django_capture_on_commit_callbacks() as queued:
        response = post_photo(client_for(people["west_patrol"]), finding, data, name="x.bin", content_type="text/plain")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["content_type"], body["width"], body["height"]) == (content_type, *size)
    assert body["status"] == "pending" and body["urls"]["display"] is None
    photo = Photo.objects.get()
    assert photo.sha256 == hashlib.sha256(data).hexdigest() == body["sha256"]
    assert photo.size_bytes == len(data)
    with photo.original.open("rb") as stored:
        assert stored.read() == data
    assert not photo.original.name.endswith("x.bin")
    assert len(queued) == 1  # processing is queued only once the row is committed


def test_large_upload_through_a_temporary_file(people, finding, media, settings):
    """An upload Django spools to disk (past FILE_UPLOAD_MAX_MEMORY_SIZE) is checked the same way."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    data = phone_jpeg((1200, 900))
    response = post_photo(client_for(people["west_patrol"]), finding, data)
    assert response.status_code == 201, response.content
    with Photo.objects.get().original.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == hashlib.sha256(data).hexdigest()
    polyglot = post_photo(client_for(people["west_patrol"]), finding, plain_png() + HTML)
    assert polyglot.status_code == 400 and Photo.objects.count() == 1


def truncated_jpeg() -> bytes:
    data = phone_jpeg()
    return data[: len(data) * 2 // 3]


def mpo_with_html() -> bytes:
    primary, gain_map = sensor_image((80, 60)), Image.new("RGB", (40, 30), (128, 128, 128))
    return encoded(primary, "MPO", save_all=True, append_images=[gain_map]) + HTML


REFUSED = {
    "20000x20000 png": png_bomb(),
    "renamed ELF": ELF,
    "renamed PE": b"MZ\x90\x00\x03" + b"\x00" * 200,
    "svg": SVG,
    "png + html": plain_png() + HTML,
    "jpeg + html": phone_jpeg() + HTML,
    "mpo + html": mpo_with_html(),
    "webp + html": plain_webp() + HTML,
    "heic + html": plain_heic() + HTML,
    "truncated jpeg": truncated_jpeg(),
    "truncated png": plain_png()[:-20],
    "html": HTML,
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_uploads_store_nothing(people, finding, media, name):
    started = time.perf_counter()
    response = post_photo(client_for(people["west_patrol"]), finding, REFUSED[name], name="photo.jpg")
    elapsed = time.perf_counter() - started
    assert response.status_code == 400, response.content
    assert "file" in response.json()
    assert elapsed < 1.0, f"refusing took {elapsed:.2f} s"
    assert not Photo.objects.exists()
    assert stored_files(media) == []


def test_pixel_bomb_message(people, finding, media):
    response = post_photo(client_for(people["west_patrol"]), finding, png_bomb(), name="map.png")
    assert "too many pixels" in response.json()["file"][0]


def test_mpo_with_gain_map_is_accepted(people, finding, media):
    """A JPEG followed by its MPF frames (HDR gain maps from recent phones) is one image, not a polyglot."""
    primary, gain_map = sensor_image((80, 60)), Image.new("RGB", (40, 30), (128, 128, 128))
    data = encoded(primary, "MPO", save_all=True, append_images=[gain_map])
    response = post_photo(client_for(people["west_patrol"]), finding, data)
    assert response.status_code == 201 and response.json()["content_type"] == "image/jpeg"


def test_zero_padding_after_the_image_is_accepted(people, finding, media):
    data = phone_jpeg() + b"\x00" * 4096  # as some camera firmware pads files; it can hide nothing
    response = post_photo(client_for(people["west_patrol"]), finding, data)
    assert response.status_code == 201
    with Photo.objects.get().original.open("rb") as stored:
        assert stored.read() == data


def test_size_cap(people, finding, media, settings):
    settings.PHOTO_MAX_BYTES = 10_000
    response = post_photo(client_for(people["west_patrol"]), finding, phone_jpeg((1600, 1200)))
    assert response.status_code == 400
    assert "must not exceed" in response.json()["file"][0]
    assert not Photo.objects.exists() and stored_files(media) == []


def test_retry_returns_the_same_photo(people, finding, media):
    client, client_id, data = client_for(people["west_patrol"]), uuid.uuid4(), phone_jpeg()
    first = post_photo(client, finding, data, client_id)
    again = post_photo(client, finding, data, client_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Photo.objects.count() == 1 and len(stored_files(media)) == 1


def test_same_client_id_other_file_is_409(people, finding, media):
    client, client_id = client_for(people["west_patrol"]), uuid.uuid4()
    assert post_photo(client, finding, phone_jpeg(), client_id).status_code == 201
    other = post_photo(client, finding, plain_png(), client_id)
    assert other.status_code == 409
    assert Photo.objects.count() == 1 and len(stored_files(media)) == 1


def test_interrupted_upload_resumes_without_duplicates(people, finding, media):
    """A phone loses the signal mid-upload, then sends the whole photo again with the same client_id."""
    client, client_id, data = client_for(people["west_patrol"]), uuid.uuid4(), phone_jpeg()
    # 1. The file arrived cut short.
    cut = post_photo(client, finding, data[: len(data) // 2], client_id)
    assert cut.status_code == 400 and "truncated" in cut.json()["file"][0]
    # 2. The request body itself ends mid-file: no closing boundary.
    boundary = "----phone-upload"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="client_id"\r\n\r\n{client_id}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="IMG.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + data[: len(data) // 3]
    broken = client.generic(
        "POST", f"/api/v1/findings/{finding.pk}/photos/", body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert broken.status_code == 400 and "file" in broken.json()  # the cut file part is dropped
    assert not Photo.objects.exists() and stored_files(media) == []
    # 3. The retry with the whole file is kept; a further retry finds it.
    assert post_photo(client, finding, data, client_id).status_code == 201
    assert post_photo(client, finding, data, client_id).status_code == 200
    assert Photo.objects.count() == 1 and len(stored_files(media)) == 1


def test_who_may_upload(people, member, media):
    east_patrol = people["east_patrol"] = member("east_patrol", "990002-RCO", "patrol")
    patrol = joint_patrol(people, ("west_patrol", "990001-RCO"), ("east_patrol", "990002-RCO"))
    finding = make_finding(people["west_patrol"], "990001-RCO", patrol=patrol)
    assert post_photo(client_for(people["west_patrol"]), finding, plain_png()).status_code == 201  # reporter
    assert post_photo(client_for(people["west_ro"]), finding, plain_png()).status_code == 201  # its agency
    assert post_photo(client_for(east_patrol), finding, plain_png()).status_code == 403  # sees it, not theirs
    assert post_photo(client_for(people["east_proc"]), finding, plain_png()).status_code == 404  # cannot see it
    assert post_photo(APIClient(), finding, plain_png()).status_code == 401
    assert Photo.objects.count() == 2


# --- processing -----------------------------------------------------------------------------------


def uploaded(people, finding, data: bytes) -> Photo:
    response = post_photo(client_for(people["west_patrol"]), finding, data)
    assert response.status_code == 201, response.content
    return Photo.objects.get(pk=response.json()["id"])


def test_processing_makes_upright_copies_without_metadata(people, finding, media):
    photo = photo_process(photo=uploaded(people, finding, phone_jpeg((800, 600))))
    assert photo.status == PhotoStatus.DONE, photo.error
    with photo.display.open("rb") as f:
        display = Image.open(io.BytesIO(f.read()))
    # Orientation 6: the 800×600 sensor frame is shown 600×800; its top-left corner ends top-right.
    assert display.size == (600, 800)
    assert display.getpixel((display.width - 5, 5))[0] > 200 and display.getpixel((5, 5))[2] > 200
    assert not display.getexif() and not {"exif", "xmp", "icc_profile", "comment"} & set(display.info)
    with photo.thumbnail.open("rb") as f:
        thumbnail = Image.open(io.BytesIO(f.read()))
    assert thumbnail.size == (240, 320) and not thumbnail.getexif()
    assert photo.taken_at == TAKEN_UTC
    assert metres_between(photo.geom, point(4_000, 1_050)) < 1.0
    finding.refresh_from_db()
    assert metres_between(finding.geom, point(4_000, 1_050)) < 1.0  # the finding had no position: the photo's


def test_display_is_at_most_1600_px(people, finding, media):
    photo = photo_process(photo=uploaded(people, finding, phone_jpeg((4000, 3000), orientation=1)))
    with photo.display.open("rb") as f:
        assert Image.open(io.BytesIO(f.read())).size == (1600, 1200)


def test_a_12_mp_photo_is_decoded_once_at_half_scale_into_both_copies(people, finding, media, monkeypatch):
    # A 4032×3024 sensor frame held upright (orientation 6). libjpeg decodes it once, at 1/2 scale
    # (2016×1512 still covers the 1600 px display copy); both copies come from that one decode.
    decoders = []
    original_getdecoder = Image._getdecoder

    def counting(mode, decoder_name, args, extra=()):  # noqa: ANN001, ANN202 - Pillow's signature
        decoders.append((decoder_name, extra))
        return original_getdecoder(mode, decoder_name, args, extra)

    photo = uploaded(people, finding, phone_jpeg((4032, 3024)))
    monkeypatch.setattr(Image, "_getdecoder", counting)
    photo = photo_process(photo=photo)
    monkeypatch.undo()
    assert photo.status == PhotoStatus.DONE, photo.error
    assert decoders == [("jpeg", (2, 0))]  # one decoder, scale 1/2
    with photo.display.open("rb") as f:
        display = Image.open(io.BytesIO(f.read()))
    with photo.thumbnail.open("rb") as f:
        thumbnail = Image.open(io.BytesIO(f.read()))
    assert display.size == (1200, 1600) and thumbnail.size == (240, 320)
    for copy in (display, thumbnail):
        # Upright: the sensor's red top-left block is now at the top right, the rest stays blue.
        assert copy.getpixel((copy.width - 3, 3))[0] > 200 and copy.getpixel((3, 3))[2] > 200
        assert copy.getpixel((copy.width // 2, copy.height // 2))[2] > 200
        # Plain baseline JPEG without metadata (progressive cost 25 ms a photo for 12 % of its size).
        assert not {"progressive", "progression", "exif", "icc_profile", "comment"} & set(copy.info)
    with photo.original.open("rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == photo.sha256  # the original untouched


@pytest.mark.parametrize("orientation", range(1, 9))
def test_display_made_in_strips_is_the_whole_resized_then_turned(orientation):
    # The display copy is resampled DISPLAY_STRIP_ROWS rows at a time, each strip turned and put in
    # place: it must be what resizing the whole and turning it gives (up to rounding), for every
    # EXIF orientation, with the strips' seams invisible.
    source = Image.linear_gradient("L").resize((2000, 1500))
    source = Image.merge("RGB", (source, source.transpose(Image.Transpose.ROTATE_90).resize((2000, 1500)), source))
    source.paste((255, 0, 0), (0, 0, 300, 200))  # a corner block that shows where the top-left went
    method = ORIENTATION_TRANSPOSE.get(orientation)
    expected = source.resize((1600, 1200), DISPLAY_RESAMPLING, reducing_gap=1.0)
    expected = expected if method is None else expected.transpose(method)
    made = upright_display(source, method)
    assert made.size == expected.size and made.mode == "RGB" and not made.info
    difference = ImageChops.difference(made, expected)
    assert max(high for _, high in difference.getextrema()) <= 1


def test_display_copy_is_moved_to_srgb_and_loses_the_profile(monkeypatch):
    # A photo with an ICC profile: the display copy is converted to sRGB once small, and the profile
    # does not ride along (the copy made in strips keeps it only for that conversion).
    converted = []
    original_conversion = ImageCms.profileToProfile

    def spying(image, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202 - ImageCms' signature
        converted.append(image.size)
        return original_conversion(image, *args, **kwargs)

    monkeypatch.setattr(ImageCms, "profileToProfile", spying)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rendered = render(io.BytesIO(encoded(sensor_image((2000, 1500)), "JPEG", quality=90, icc_profile=srgb)))
    assert converted == [(1600, 1200)]
    for data in (rendered.display, rendered.thumbnail):
        assert "icc_profile" not in Image.open(io.BytesIO(data)).info


def test_processing_twice_gives_the_same_files(people, finding, media):
    photo = photo_process(photo=uploaded(people, finding, phone_jpeg()))
    names = (photo.display.name, photo.thumbnail.name)
    contents = [Path(media, name).read_bytes() for name in names]
    files = stored_files(media)
    again = photo_process(photo=photo)
    assert (again.display.name, again.thumbnail.name) == names
    # Forced to run in full again (as after a crash before the row was marked done).
    Photo.objects.filter(pk=photo.pk).update(status=PhotoStatus.PENDING)
    rerun = photo_process(photo=photo)
    assert rerun.status == PhotoStatus.DONE and (rerun.display.name, rerun.thumbnail.name) == names
    assert [Path(media, name).read_bytes() for name in names] == contents
    assert stored_files(media) == files and Photo.objects.count() == 1


def test_time_without_offset_is_local_and_finding_point_is_kept(people, media):
    phone_point = point(3_000, 1_000)
    finding = make_finding(people["west_patrol"], "990001-RCO", geom=phone_point)
    photo = photo_process(photo=uploaded(people, finding, phone_jpeg(offset=None)))
    assert photo.taken_at == TAKEN_UTC  # 09:30:15 read in Asia/Shanghai
    finding.refresh_from_db()
    assert finding.geom.equals_exact(phone_point, 1e-9)  # the phone's own point is never replaced


def test_photo_without_exif(people, finding, media):
    photo = photo_process(photo=uploaded(people, finding, plain_png()))
    assert photo.status == PhotoStatus.DONE and photo.taken_at is None and photo.geom is None
    with photo.display.open("rb") as f:
        display = Image.open(io.BytesIO(f.read()))
    assert display.mode == "RGB" and display.size == (64, 48)
    finding.refresh_from_db()
    assert finding.geom is None


def test_heic_is_processed(people, finding, media):
    photo = photo_process(photo=uploaded(people, finding, plain_heic()))
    assert photo.status == PhotoStatus.DONE, photo.error
    assert photo.taken_at == TAKEN_UTC and metres_between(photo.geom, point(4_000, 1_050)) < 1.0


def test_undecodable_original_fails_and_is_kept(people, finding, media):
    photo = uploaded(people, finding, phone_jpeg())
    original = Path(media, photo.original.name)
    broken = original.read_bytes()[:600]  # the stored file damaged after upload (a disk fault)
    original.write_bytes(broken)
    photo = photo_process(photo=photo)
    assert photo.status == PhotoStatus.FAILED and photo.error
    assert original.read_bytes() == broken and not photo.display


# --- access ---------------------------------------------------------------------------------------


def fetch_all(user, photo: Photo) -> tuple[int, int, int]:
    client = client_for(user)
    return tuple(client.get(f"/api/v1/photos/{photo.pk}/{variant}/").status_code for variant in
                 ("display", "thumbnail", "original"))  # fmt: skip


@pytest.fixture
def patrol_photo(people, member, media):
    """A processed photo of a finding made on a joint patrol of 甲区's river office and procuratorate,
    with a patrol member of 乙区's river office along."""
    people["east_patrol"] = member("east_patrol", "990002-RCO", "patrol")
    patrol = joint_patrol(
        people, ("west_patrol", "990001-RCO"), ("west_proc", "990001-PROC"), ("east_patrol", "990002-RCO")
    )
    finding = make_finding(people["west_patrol"], "990001-RCO", geom=point(3_000, 1_050), patrol=patrol)
    return photo_process(photo=uploaded(people, finding, phone_jpeg()))


# (display, thumbnail, original) by user
PATROL_MATRIX = {
    "west_patrol": (200, 200, 200),  # the reporter
    "west_ro": (200, 200, 200),  # the finding's agency
    "west_liaison": (200, 200, 200),  # sees the river office's work through the liaison office
    "west_proc": (200, 200, 200),  # on the patrol, a prosecutor
    "east_patrol": (200, 200, 403),  # on the patrol, a plain patrol member of another agency
    "east_ro": (200, 200, 200),  # a member of a participant's agency, river-office staff
    "east_proc": (404, 404, 404),  # another district's procuratorate
    "city_proc": (404, 404, 404),
    "city_ro": (404, 404, 404),
}


@pytest.mark.parametrize("username", list(PATROL_MATRIX))
def test_access_matrix(people, patrol_photo, username):
    assert fetch_all(people[username], patrol_photo) == PATROL_MATRIX[username]
    visible = findings_visible_to(people[username]).filter(pk=patrol_photo.finding_id).exists()
    assert visible == (PATROL_MATRIX[username][0] == 200)


def test_served_files(people, patrol_photo):
    client = client_for(people["west_ro"])
    display = client.get(f"/api/v1/photos/{patrol_photo.pk}/display/", HTTP_ACCEPT="image/avif,image/*")
    assert display["Content-Type"] == "image/jpeg" and "private" in display["Cache-Control"]
    assert display["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(b"".join(display.streaming_content))).size == (600, 800)
    original = client.get(f"/api/v1/photos/{patrol_photo.pk}/original/")
    assert original["Content-Type"] == "image/jpeg" and "private" in original["Cache-Control"]
    assert original["Content-Disposition"].startswith("attachment")
    assert hashlib.sha256(b"".join(original.streaming_content)).hexdigest() == patrol_photo.sha256
    listed = client.get(f"/api/v1/findings/{patrol_photo.finding_id}/photos/").json()
    assert [p["id"] for p in listed] == [patrol_photo.pk] and listed[0]["urls"]["original"]
    listed = client_for(people["east_patrol"]).get(f"/api/v1/findings/{patrol_photo.finding_id}/photos/").json()
    assert listed[0]["urls"]["original"] is None and listed[0]["urls"]["display"]


def test_confidential_clue_hides_the_photos(people, patrol_photo):
    finding = patrol_photo.finding
    clue = clue_from_finding(user=people["west_ro"], finding=finding, confidential=True).clue
    clue_step(clue=clue, user=people["west_ro"], step="send")  # now held by 甲区检察院
    allowed = {"west_proc", "city_proc"}  # the holder and the municipal procuratorate (DESIGN §5)
    for username in PATROL_MATRIX:
        expected = (200, 200, 200) if username in allowed else (404, 404, 404)
        assert fetch_all(people[username], patrol_photo) == expected, username


def test_a_clue_shares_the_photos_with_who_sees_it(people, media):
    """A finding on the cross-district reach becomes a clue for the city, copied to both districts."""
    finding = make_finding(people["west_ro"], "990001-RCO", geom=point(7_000, 5_020))  # on CROSS, 甲区 side
    photo = photo_process(photo=uploaded(people, finding, phone_jpeg()))
    assert fetch_all(people["east_proc"], photo) == (404, 404, 404)
    clue = clue_from_finding(user=people["west_ro"], finding=finding).clue
    clue_step(clue=clue, user=people["west_ro"], step="send")
    assert fetch_all(people["east_proc"], photo) == (200, 200, 200)  # copied on the clue
    assert fetch_all(people["city_proc"], photo) == (200, 200, 200)  # receives it


def test_unprocessed_copies_are_404_with_a_reason(people, finding, media):
    photo = uploaded(people, finding, phone_jpeg())
    response = client_for(people["west_patrol"]).get(f"/api/v1/photos/{photo.pk}/display/")
    assert response.status_code == 404 and "not processed" in response.json()["detail"]


# --- the sweep ------------------------------------------------------------------------------------


def forget_queue(name: str) -> None:
    """Delete a test's queue from the broker: its messages and kombu's records of its binding."""
    with celery_app.connection_for_write() as broker:
        broker.default_channel.client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")


@pytest.fixture
def own_queue(settings):
    """A Celery queue of this test alone on the real broker; emptied and forgotten afterwards."""
    name = f"test-photos-{uuid.uuid4().hex[:12]}"
    settings.PHOTO_TASK_QUEUE = name
    with celery_app.connection_for_write() as broker:
        yield name, broker.default_channel.client
    forget_queue(name)


def test_stale_photos_are_requeued_once(people, finding, media, own_queue, settings):
    queue, redis = own_queue
    settings.PHOTO_STALE_AFTER_MIN = 10
    stale = uploaded(people, finding, phone_jpeg())
    recent = uploaded(people, finding, plain_png())
    done = photo_process(photo=uploaded(people, finding, plain_webp()))
    long_ago = timezone.now() - datetime.timedelta(minutes=30)
    Photo.objects.filter(pk__in=[stale.pk, done.pk]).update(uploaded_at=long_ago)
    try:
        assert photos_requeue_stale() == [stale.pk]
        assert photos_requeue_stale() == []  # within the period: not queued twice
        messages = [json.loads(raw) for raw in redis.lrange(queue, 0, -1)]
        assert [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in messages] == [
            ("patrols.tasks.process_photo", f"({stale.pk},)")
        ]
        # A period later (its marker expired), still pending: queued again, with the one now stale too.
        cache.delete(f"patrols:photo-requeued:{stale.client_id}")
        assert photos_requeue_stale(now=timezone.now() + datetime.timedelta(minutes=11)) == [stale.pk, recent.pk]
        assert redis.llen(queue) == 3
    finally:
        cache.delete_many([f"patrols:photo-requeued:{p.client_id}" for p in (stale, recent, done)])


def test_a_photo_that_keeps_killing_its_worker_is_given_up(people, finding, media, own_queue, settings):
    settings.PHOTO_MAX_ATTEMPTS = 3
    poison = uploaded(people, finding, phone_jpeg())
    # Three processing runs started and never finished (the worker died each time).
    Photo.objects.filter(pk=poison.pk).update(attempts=3, uploaded_at=timezone.now() - datetime.timedelta(hours=1))
    try:
        assert photos_requeue_stale() == []
        poison.refresh_from_db()
        assert poison.status == PhotoStatus.FAILED and "3 attempts" in poison.error
        assert poison.original.storage.exists(poison.original.name)  # the evidence stays
    finally:
        cache.delete(f"patrols:photo-requeued:{poison.client_id}")


def test_each_processing_run_is_counted(people, finding, media):
    photo = uploaded(people, finding, plain_png())
    assert photo.attempts == 0
    assert photo_process(photo=photo).attempts == 1
    assert photo_process(photo=photo).attempts == 1  # already done: not run again
