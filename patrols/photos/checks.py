"""Checking an upload by its content: the leading bytes must announce JPEG, PNG, WebP or HEIC/HEIF,
Pillow must read the same format, the header's width × height must be within PHOTO_MAX_PIXELS before
any pixel is decoded, and the file must end where the image's own structure ends: bytes after a
PNG's IEND or a JPEG's EOI (an HTML page appended to an image, say) are refused.
"""

from __future__ import annotations

import hashlib
import io
import mmap
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pillow_heif
from django.conf import settings
from django.core.files.base import File
from PIL import Image

# HEIC/HEIF (iPhones, many Android phones) through libheif; registering twice is harmless.
pillow_heif.register_heif_opener()

# What Pillow raises on a broken or hostile image, besides its own subclasses of these.
IMAGE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


class PhotoRejected(Exception):
    """The upload is not a photo this system keeps; the message (zh / en) says why."""


@dataclass(frozen=True)
class Kind:
    pillow_format: str  # the opener Pillow may use for it
    content_type: str
    extension: str


# Pillow's JPEG opener answers "MPO" for a JPEG with MPF frames (HDR gain maps, depth maps).
JPEG = Kind("JPEG", "image/jpeg", ".jpg")
PNG = Kind("PNG", "image/png", ".png")
WEBP = Kind("WEBP", "image/webp", ".webp")
HEIC = Kind("HEIF", "image/heic", ".heic")
HEIF = Kind("HEIF", "image/heif", ".heif")
OPENERS = ["JPEG", "PNG", "WEBP", "HEIF"]
KIND_BY_CONTENT_TYPE = {kind.content_type: kind for kind in (JPEG, PNG, WEBP, HEIC, HEIF)}

HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
HEIF_BRANDS = {b"mif1", b"msf1", b"heif"}


@dataclass(frozen=True)
class Inspection:
    """What an accepted upload is, found from its bytes."""

    kind: Kind
    width: int
    height: int
    size_bytes: int
    sha256: str


NOT_A_PHOTO = "只接受 JPEG、PNG、WebP、HEIC 照片 / only JPEG, PNG, WebP and HEIC photos are accepted"
TRUNCATED = "照片文件不完整 / the image is truncated (the upload may have been cut short)"
TRAILING = "照片结尾后还有其他数据 / the file carries data after the end of the image"
DAMAGED = "照片文件已损坏 / the image file is damaged"


def sniff(head: bytes) -> Kind | None:
    """Return the kind of image the leading bytes announce, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and len(head) >= 16:
        box_end = min(int.from_bytes(head[:4], "big"), len(head))
        major = head[8:12]
        brands = {major} | {head[i : i + 4] for i in range(16, box_end - 3, 4)}
        if major in (b"avif", b"avis"):  # AVIF shares the container but is not HEIC
            return None
        if brands & HEIC_BRANDS:
            return HEIC
        if brands & HEIF_BRANDS:
            return HEIF
    return None


def photo_inspect(upload: File) -> Inspection:
    """Return what `upload` is, or raise PhotoRejected; decodes no pixels and stores nothing."""
    size = upload.size
    if not size:
        raise PhotoRejected("文件为空 / the file is empty")
    if size > settings.PHOTO_MAX_BYTES:
        raise PhotoRejected(too_large_message())
    digest = hashlib.sha256()
    counted = 0
    for chunk in upload.chunks():
        digest.update(chunk)
        counted += len(chunk)
    if counted != size:
        raise PhotoRejected(TRUNCATED)
    with readable(upload) as data:
        kind = sniff(bytes(data[:64]))
        if kind is None:
            raise PhotoRejected(NOT_A_PHOTO)
        # Walked by lengths and markers, without decoding: cut short, or something hidden after it.
        # Zero padding (some camera firmware pads files to a block size) can hide nothing.
        if bytes(data[container_end(data, kind) :]).strip(b"\x00"):
            raise PhotoRejected(TRAILING)
        upload.seek(0)
        try:
            image = Image.open(upload, formats=[kind.pillow_format])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRejected(too_many_pixels_message()) from None
        except IMAGE_ERRORS:
            raise PhotoRejected(NOT_A_PHOTO) from None
        with image:
            width, height = image.size
            # Our own cap, from the header alone: Pillow's bomb check is a global and far higher.
            if width <= 0 or height <= 0 or width * height > settings.PHOTO_MAX_PIXELS:
                raise PhotoRejected(too_many_pixels_message(width, height))
            try:
                image.verify()  # PNG: every chunk's CRC; the structure walk above covers the others
            except IMAGE_ERRORS:
                raise PhotoRejected(DAMAGED) from None
    upload.seek(0)
    return Inspection(kind=kind, width=width, height=height, size_bytes=size, sha256=digest.hexdigest())


def too_large_message() -> str:
    mb = settings.PHOTO_MAX_BYTES / 1024 / 1024
    return f"照片不能超过 {mb:g} MB / the photo must not exceed {mb:g} MB"


def too_many_pixels_message(width: int | None = None, height: int | None = None) -> str:
    mp = settings.PHOTO_MAX_PIXELS / 1_000_000
    size = f" ({width}×{height})" if width else ""
    return f"照片像素过多{size}，上限 {mp:g} 百万像素 / the image has too many pixels{size}; the limit is {mp:g} MP"


@contextmanager
def readable(upload: File) -> Iterator[bytes | mmap.mmap]:
    """Give the upload's bytes for random access: mapped when it is a file on disk, else read."""
    fileobj = getattr(upload, "file", upload)
    try:
        fileno = fileobj.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        fileno = None
    if fileno is not None:
        with mmap.mmap(fileno, 0, access=mmap.ACCESS_READ) as mapped:
            yield mapped
        return
    upload.seek(0)
    yield upload.read()


def container_end(data: bytes | mmap.mmap, kind: Kind) -> int:
    """Return where the image's own structure ends; raise PhotoRejected when it is cut short."""
    if kind is JPEG:
        end, frames = jpeg_end(data, 0)
        # The MPF frames (secondary images: HDR gain maps, depth maps) follow the first EOI, one
        # after another; nothing but zero padding may lie between them.
        for start in sorted(frames):
            if start < end or bytes(data[end:start]).strip(b"\x00"):
                raise PhotoRejected(TRAILING)
            if data[start : start + 2] != b"\xff\xd8":
                raise PhotoRejected(DAMAGED)
            end = jpeg_end(data, start)[0]
        return end
    if kind is PNG:
        return png_end(data)
    if kind is WEBP:
        return webp_end(data)
    return isobmff_end(data)


def jpeg_end(data: bytes | mmap.mmap, start: int) -> tuple[int, list[int]]:
    """Return the offset after the EOI of the JPEG at `start`, and where its MPF frames start."""
    n = len(data)
    pos = start + 2  # after SOI
    frames: list[int] = []
    while True:
        if pos + 2 > n:
            raise PhotoRejected(TRUNCATED)
        if data[pos] != 0xFF:
            raise PhotoRejected(DAMAGED)
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # EOI
            return pos + 2, frames
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # RSTn, TEM: no length
            pos += 2
            continue
        if pos + 4 > n:
            raise PhotoRejected(TRUNCATED)
        length = (data[pos + 2] << 8) | data[pos + 3]
        if length < 2:
            raise PhotoRejected(DAMAGED)
        segment_end = pos + 2 + length
        if segment_end > n:
            raise PhotoRejected(TRUNCATED)
        if marker == 0xE2 and data[pos + 4 : pos + 8] == b"MPF\x00" and start == 0:
            frames = mpf_frames(bytes(data[pos + 8 : segment_end]), pos + 8)
        pos = segment_end
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next real marker
            while True:
                ff = data.find(b"\xff", pos)
                if ff < 0 or ff + 1 >= n:
                    raise PhotoRejected(TRUNCATED)
                following = data[ff + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:  # stuffed byte, restart marker
                    pos = ff + 2
                    continue
                pos = ff
                break


def mpf_frames(header: bytes, header_offset: int) -> list[int]:
    """Return the file offsets of the secondary images an MPF index (CIPA DC-007) declares."""
    try:
        endian = {b"II": "<", b"MM": ">"}[header[:2]]
        magic, ifd = struct.unpack_from(endian + "HI", header, 2)
        if magic != 42:
            raise PhotoRejected(DAMAGED)
        (count,) = struct.unpack_from(endian + "H", header, ifd)
        for i in range(count):
            tag, _type, length, value = struct.unpack_from(endian + "HHII", header, ifd + 2 + 12 * i)
            if tag == 0xB002:  # MPEntry: 16 bytes per image
                entries = [struct.unpack_from(endian + "IIIHH", header, value + 16 * k) for k in range(length // 16)]
                return [header_offset + offset for _attr, _size, offset, _d1, _d2 in entries if offset]
    except (KeyError, struct.error):
        raise PhotoRejected(DAMAGED) from None
    return []


def png_end(data: bytes | mmap.mmap) -> int:
    """Return the offset after the IEND chunk, walking the chunks by their lengths."""
    n, pos = len(data), 8
    while True:
        if pos + 12 > n:
            raise PhotoRejected(TRUNCATED)
        length, chunk_type = struct.unpack_from(">I4s", data, pos)
        if not chunk_type.isalpha():
            raise PhotoRejected(DAMAGED)
        pos += 12 + length
        if pos > n:
            raise PhotoRejected(TRUNCATED)
        if chunk_type == b"IEND":
            return pos


def webp_end(data: bytes | mmap.mmap) -> int:
    """Return the end of the RIFF container as its header declares it."""
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = 8 + riff_size + (riff_size & 1)
    if end > len(data):
        raise PhotoRejected(TRUNCATED)
    return end


def isobmff_end(data: bytes | mmap.mmap) -> int:
    """Return the end of the last top-level box of a HEIF file (ISO base media file format)."""
    n, pos = len(data), 0
    while pos < n:
        if pos + 8 > n:
            raise PhotoRejected(TRAILING)
        size, box_type = struct.unpack_from(">I4s", data, pos)
        if size == 1:
            if pos + 16 > n:
                raise PhotoRejected(TRUNCATED)
            (size,) = struct.unpack_from(">Q", data, pos + 8)
        elif size == 0:  # the last box runs to the end of the file
            size = n - pos
        if size < 8 or not box_type.replace(b" ", b"").isalnum():
            raise PhotoRejected(TRAILING if pos else DAMAGED)
        if pos + size > n:
            raise PhotoRejected(TRUNCATED)
        pos += size
    return pos
