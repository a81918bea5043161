"""Processing a photo in the background: an upright display copy and a thumbnail without metadata,
the EXIF time and position read into fields; and the sweep that queues again what never finished."""

from __future__ import annotations

import datetime
import io
import posixpath
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from PIL import ExifTags, Image, ImageCms

from ..models import Finding, Photo, PhotoStatus
from .checks import IMAGE_ERRORS, OPENERS
from .exif import exif_position, exif_taken_at

DISPLAY_MAX_PX = 1600  # long side of the display copy
THUMBNAIL_MAX_PX = 320
# Both copies are plain baseline JPEG. Measured on the bench's 12 MP photo (display copy 1600×1200):
# 5 ms and 308 KB plain, 11 ms and 275 KB optimized, 31 ms and 270 KB progressive; a copy made once
# and shown on a phone does not repay 6–25 ms of a worker per photo for 11 % of its size.
DISPLAY_QUALITY = 85
THUMBNAIL_QUALITY = 80
# From the draft's scale (at most 2× the display size) to the display size: the average over each
# output pixel's area (what OpenCV calls INTER_AREA), 17 ms against 32 for bilinear and 52 for Lanczos.
DISPLAY_RESAMPLING = Image.Resampling.BOX
# Modes Pillow resamples without converting; anything else becomes RGB first (to_srgb).
RESIZED_AS_THEY_ARE = {"RGB", "L", "CMYK"}
# The display copy is made this many rows at a time, each strip turned upright and pasted straight
# into the copy: Pillow's horizontal pass then needs a strip-sized buffer, not a second full-size
# image, and no separately turned copy is ever allocated. On the bench's 12 MP photo that is 8 MB
# less fresh memory (about 1 600 fewer page faults, 2–3 ms) for the same pixels, up to rounding.
DISPLAY_STRIP_ROWS = 128
ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# Where a strip of rows [top, bottom) of a copy lands once turned: as columns rather than rows, and
# counted from the far edge rather than the near one.
STRIP_PLACEMENT = {
    None: (False, False),
    Image.Transpose.FLIP_LEFT_RIGHT: (False, False),
    Image.Transpose.ROTATE_180: (False, True),
    Image.Transpose.FLIP_TOP_BOTTOM: (False, True),
    Image.Transpose.TRANSPOSE: (True, False),
    Image.Transpose.ROTATE_270: (True, True),
    Image.Transpose.TRANSVERSE: (True, True),
    Image.Transpose.ROTATE_90: (True, False),
}


@dataclass(frozen=True)
class Rendered:
    display: bytes
    thumbnail: bytes
    taken_at: datetime.datetime | None
    position: Point | None


def photo_process(*, photo: Photo) -> Photo:
    """Make `photo`'s display copy and thumbnail and read its EXIF time and position; run twice, same result.

    A photo that cannot be decoded is marked failed with the reason; its original stays. A photo
    with an EXIF position gives its finding a location when the finding has none yet.
    """
    # The photo is claimed (FOR UPDATE SKIP LOCKED): a message delivered twice, or beside the sweep's,
    # finds it locked and leaves it to the run under way at once (a dead worker's connection gives
    # its lock back), so a photo is processed once. The attempt is counted in its own transaction,
    # before the work: a run that kills the worker still counts.
    with transaction.atomic():
        if claim(photo) is None:
            return photo
        Photo.objects.filter(pk=photo.pk, status=PhotoStatus.PENDING).update(attempts=F("attempts") + 1)
    with transaction.atomic():
        claimed = claim(photo)
        if claimed is None:
            return photo
        photo = claimed
        if photo.status == PhotoStatus.DONE and copies_exist(photo):
            return photo
        try:
            with photo.original.storage.open(photo.original.name, "rb") as original:
                rendered = render(original)
        except IMAGE_ERRORS as exc:
            photo.status = PhotoStatus.FAILED
            photo.error = f"{type(exc).__name__}: {exc}"[:2000]
            photo.processed_at = timezone.now()
            photo.save(update_fields=["status", "error", "processed_at"])
            return photo
        store_copy(photo, "display", rendered.display)
        store_copy(photo, "thumbnail", rendered.thumbnail)
        photo.taken_at = rendered.taken_at
        photo.geom = rendered.position
        photo.status = PhotoStatus.DONE
        photo.error = ""
        photo.processed_at = timezone.now()
        photo.save(update_fields=["display", "thumbnail", "taken_at", "geom", "status", "error", "processed_at"])
        if rendered.position is not None:
            # The first processed photo with a position wins; a point the phone gave is never replaced.
            Finding.objects.filter(pk=photo.finding_id, geom__isnull=True).update(geom=rendered.position)
    return photo


def claim(photo: Photo) -> Photo | None:
    """Lock and re-read the photo's row, or return None when another run holds it (in a transaction)."""
    return Photo.objects.select_for_update(skip_locked=True).filter(pk=photo.pk).first()


def copies_exist(photo: Photo) -> bool:
    return all(f.name and f.storage.exists(f.name) for f in (photo.display, photo.thumbnail))


def store_copy(photo: Photo, field_name: str, data: bytes) -> None:
    """Write a made copy under a name fixed by the photo, replacing an earlier run's file."""
    fieldfile = getattr(photo, field_name)
    upload_to = photo._meta.get_field(field_name).upload_to
    name = posixpath.join(timezone.localtime(photo.uploaded_at).strftime(upload_to), f"{photo.client_id}.jpg")
    for old in {name, fieldfile.name} - {""}:
        fieldfile.storage.delete(old)
    fieldfile.name = fieldfile.storage.save(name, ContentFile(data))


def render(fp) -> Rendered:  # noqa: ANN001 - a binary file
    """Decode an original once; return the upright, metadata-free JPEG copies and what its EXIF says.

    The decode is the cost (issue 10, a 12 MP phone JPEG): libjpeg decodes at 1/2, 1/4 or 1/8 scale
    when that still covers the display size (draft), the display copy is made from that, turned upright
    and moved to sRGB once small, and the thumbnail is made from the display copy (reducing_gap: whole
    blocks averaged, then one resampling).
    """
    with Image.open(fp, formats=OPENERS) as image:
        exif = image.getexif()
        taken_at, position = exif_taken_at(exif), exif_position(exif)
        if image.format in ("JPEG", "MPO"):
            image.draft("RGB", fit(image.size, DISPLAY_MAX_PX))
        if image.mode not in RESIZED_AS_THEY_ARE:  # palette, 16-bit, …: to RGB before any resampling
            image = to_srgb(image)
        made = upright_display(image, ORIENTATION_TRANSPOSE.get(exif.get(ExifTags.Base.Orientation)))
    display = to_srgb(made)
    thumbnail = display.resize(fit(display.size, THUMBNAIL_MAX_PX), Image.Resampling.BICUBIC, reducing_gap=1.0)
    # The copy made here (Image.new, pasted into) carries nothing of the original's once in sRGB.
    return Rendered(
        jpeg_bytes(display, DISPLAY_QUALITY, fresh=display is made and not made.info),
        jpeg_bytes(thumbnail, THUMBNAIL_QUALITY),
        taken_at,
        position,
    )


def upright_display(image: Image.Image, method: Image.Transpose | None) -> Image.Image:
    """Return a new image: `image` resized to the display size, turned by `method`, with its ICC profile only.

    Made DISPLAY_STRIP_ROWS rows at a time (see there); each strip's box is its share of the source,
    so the strips join as one resampling of the whole would (up to rounding).
    """
    width, height = fit(image.size, DISPLAY_MAX_PX)
    as_columns, from_far_edge = STRIP_PLACEMENT[method]
    display = Image.new(image.mode, (height, width) if as_columns else (width, height))
    if "icc_profile" in image.info:  # for to_srgb, the one thing of the original's the copy needs
        display.info["icc_profile"] = image.info["icc_profile"]
    source_rows_per_row = image.height / height
    for top in range(0, height, DISPLAY_STRIP_ROWS):
        bottom = min(height, top + DISPLAY_STRIP_ROWS)
        box = (0, top * source_rows_per_row, image.width, bottom * source_rows_per_row)
        strip = image.resize((width, bottom - top), DISPLAY_RESAMPLING, box=box, reducing_gap=1.0)
        if method is not None:
            strip = strip.transpose(method)
        at = height - bottom if from_far_edge else top
        display.paste(strip, (at, 0) if as_columns else (0, at))
    return display


def fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def to_srgb(image: Image.Image) -> Image.Image:
    """Return an RGB image: colours moved to sRGB when a profile says so, transparency on white."""
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unreadable profile: the colours as they are
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")  # 16-bit samples to 8-bit
    return image if image.mode == "RGB" else image.convert("RGB")


def jpeg_bytes(image: Image.Image, quality: int, *, fresh: bool = False) -> bytes:
    """Encode a fresh copy of `image`: no EXIF, GPS, XMP, comment or ICC profile can ride along.

    `fresh`: `image` is an RGB image made by Image.new and only pasted into, so already such a copy.
    """
    if not fresh:
        image, original = Image.new("RGB", image.size), image
        image.paste(original)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)  # baseline, standard tables: see DISPLAY_QUALITY
    return buffer.getvalue()


def photo_queue_processing(photo_id: int) -> None:
    """Queue processing when the transaction commits; if the broker is down the sweep catches up."""
    transaction.on_commit(lambda: send_processing(photo_id))


def send_processing(photo_id: int) -> bool:
    """Send the processing of a photo now; False when the broker refused it (config.queueing)."""
    from config.queueing import enqueue

    from ..tasks import process_photo  # the tasks module imports this one

    return enqueue(process_photo, photo_id, queue=settings.PHOTO_TASK_QUEUE)


def photos_requeue_stale(
    *, now: datetime.datetime | None = None, limit: int = 500, all_pending: bool = False
) -> list[int]:
    """Queue processing again for photos still pending PHOTO_STALE_AFTER_MIN after upload.

    Each photo is queued at most once per that period (a marker in the cache), so a backlog is not
    multiplied by the sweep; the task itself claims its photo, so a lost marker costs only work.
    With `all_pending` (a worker that just started: what a killed one held is lost until Redis'
    visibility timeout) every pending photo is queued at once, markers or not.
    """
    now = now or timezone.now()
    period = datetime.timedelta(minutes=settings.PHOTO_STALE_AFTER_MIN)
    Photo.objects.filter(status=PhotoStatus.PENDING, attempts__gte=settings.PHOTO_MAX_ATTEMPTS).update(
        status=PhotoStatus.FAILED,
        error=f"处理 {settings.PHOTO_MAX_ATTEMPTS} 次均未完成 / gave up after {settings.PHOTO_MAX_ATTEMPTS} attempts",
        processed_at=now,
    )
    pending = Photo.objects.filter(status=PhotoStatus.PENDING)
    if not all_pending:
        pending = pending.filter(uploaded_at__lt=now - period)
    queued = []
    for pk, client_id in pending.order_by("uploaded_at").values_list("pk", "client_id")[:limit]:
        marker = f"patrols:photo-requeued:{client_id}"
        if all_pending:
            cache.set(marker, 1, timeout=period.total_seconds())
        elif not cache.add(marker, 1, timeout=period.total_seconds()):
            continue
        if not send_processing(pk):
            cache.delete(marker)
            break  # the broker is down: the next sweep tries again
        queued.append(pk)
    return queued
