"""A world where 甲区's liaison officer must not meet three clues, reachable by every path there is.

Built on tests.clues.conftest's `people` (甲区 990001 west, 乙区 990002 east, city 990000):
- `secret_ro`: confidential, registered by 甲区's river office and not sent yet (the office holds it),
  50 m from `visible` and of the same category (a possible duplicate of it), 240 days old (its
  half-yearly transfer is overdue). The liaison office acts for the river office, yet may not see it.
- `secret_proc`: confidential, made from a patrol finding (with a photo), sent in a batch to 甲区's
  procuratorate together with `sent`; a suggestion was issued on it and west_proc was notified.
- `other`: an ordinary clue of 乙区, sent to 乙区's procuratorate, with a suggestion and a notification.
What the liaison officer does see: `visible` (registered, unsent, 200 days old) and `sent`.
Every hidden clue's description carries HIDDEN, so a response naming it is easy to catch.
"""

import datetime
import uuid

from django.utils import timezone

from clues.batches import batch_send
from clues.models import Clue, Notification, Suggestion
from clues.registration import clue_from_finding
from clues.workflow import clue_step
from patrols.findings import finding_create
from patrols.models import Photo
from rivers.models import Agency
from tests.clues.conftest import register
from tests.factories import point

HIDDEN = "HIDDEN"
DAY = datetime.timedelta(days=1)


def _suggest(clue: Clue, addressee: str, user) -> Suggestion:  # noqa: ANN001 - a user
    now = timezone.now()
    return Suggestion.objects.create(
        clue=clue,
        addressee=Agency.objects.get(code=addressee),
        content=f"建议 {HIDDEN} suggestion",
        issued_by=user,
        issued_at=now - 90 * DAY,
        reply_due=(now - 30 * DAY).date(),
    )


def _notify(user, clue: Clue) -> Notification:  # noqa: ANN001 - a user
    return Notification.objects.create(
        user=user, key=f"test:{clue.pk}", clue=clue, kind="first_answer_overdue", message=f"{clue.code} {HIDDEN}"
    )


def hidden_world(people: dict) -> dict:
    west_ro, west_proc, east_ro, east_proc = (people[n] for n in ("west_ro", "west_proc", "east_ro", "east_proc"))
    viewer = people["west_liaison"]
    viewer.email = "liaison@example.org"
    viewer.save()
    now = timezone.now()

    visible = register(west_ro, "990001-RCO", 4_000, 1_050, description="可见 visible")
    secret_ro = register(west_ro, "990001-RCO", 4_050, 1_050, confidential=True, description=f"涉密 {HIDDEN} ro")
    Clue.objects.filter(pk=visible.pk).update(created_at=now - 200 * DAY)
    Clue.objects.filter(pk=secret_ro.pk).update(created_at=now - 240 * DAY)

    finding, _ = finding_create(
        user=people["west_patrol"],
        agency=Agency.objects.get(code="990001-RCO"),
        client_uuid=uuid.uuid4(),
        category="illegal_discharge",
        description=f"发现 {HIDDEN} finding",
        location=point(3_000, 1_050),
    )
    photo = Photo.objects.create(
        finding=finding,
        client_id=uuid.uuid4(),
        original="photos/original/hidden.jpg",
        sha256="0" * 64,
        content_type="image/jpeg",
        size_bytes=1,
        width=1,
        height=1,
        uploaded_by=people["west_patrol"],
    )
    secret_proc = clue_from_finding(user=west_ro, finding=finding, confidential=True).clue
    Clue.objects.filter(pk=secret_proc.pk).update(description=f"涉密 {HIDDEN} proc")
    sent = register(west_ro, "990001-RCO", 5_000, 1_050, description="已移送 sent")
    today = timezone.localdate()
    [batch] = batch_send(
        user=west_ro,
        agency=Agency.objects.get(code="990001-RCO"),
        period_start=today - 30 * DAY,
        period_end=today,
        clue_ids=[sent.pk, secret_proc.pk],
    )

    other = register(east_ro, "990002-RCO", 15_000, 2_000, description=f"乙区 {HIDDEN} other")
    clue_step(clue=other, user=east_ro, step="send")

    hidden = {"secret_ro": secret_ro, "secret_proc": secret_proc, "other": other}
    hidden = {name: Clue.objects.get(pk=clue.pk) for name, clue in hidden.items()}
    return {
        "viewer": viewer,
        "visible": Clue.objects.get(pk=visible.pk),
        "sent": Clue.objects.get(pk=sent.pk),
        "hidden": hidden,
        "finding": finding,
        "photo": photo,
        "batch": batch,
        "suggestions": [
            _suggest(hidden["secret_proc"], "990001-RCO", west_proc),
            _suggest(other, "990002-RCO", east_proc),
        ],
        "notifications": [_notify(west_proc, hidden["secret_proc"]), _notify(east_proc, other)],
    }
