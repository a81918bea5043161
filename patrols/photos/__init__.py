"""Photos of findings (照片): checked by content on upload, the original kept untouched with its SHA-256
(evidence), then, in the background, an upright display copy and a thumbnail without metadata and the
EXIF time and position.

- `checks`: what an upload is, from its bytes (photo_inspect); refused uploads store nothing;
- `upload`: keeping it, idempotent by client_id (photo_upload);
- `processing`: the copies and EXIF fields (photo_process, a Celery task's body) and the sweep of
  photos whose processing never finished (photos_requeue_stale);
- `exif`: reading the time and position.
"""

from .checks import KIND_BY_CONTENT_TYPE, Inspection, PhotoRejected, photo_inspect, too_large_message
from .processing import photo_process, photo_queue_processing, photos_requeue_stale
from .upload import PhotoConflict, photo_upload

__all__ = [
    "KIND_BY_CONTENT_TYPE",
    "Inspection",
    "PhotoConflict",
    "PhotoRejected",
    "photo_inspect",
    "photo_process",
    "photo_queue_processing",
    "photo_upload",
    "photos_requeue_stale",
    "too_large_message",
]
