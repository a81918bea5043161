"""Half-yearly batches of transfers with their transfer letter (移送函).

Seed 002 §三(二): "区河长办、区检察院原则上应每半年移送一次案件线索". An agency gathers the clues it
registered in a period and has not sent yet, sends them together (one batch and one letter per
receiving agency) and keeps the letter with the batch. Each clue still goes through the workflow's
"send" step, so its history and deadlines are the same as for a clue sent on its own.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q

from rivers.models import Agency

from .figures import Period, PeriodInvalid, local_today, period_make
from .letters import letter_pdf
from .models import Clue, Status, Transfer, TransferBatch
from .querysets import ClueQuerySet
from .workflow import STAFF, StepRefused, acting_roles, clue_step


class BatchInvalid(Exception):
    """The request names clues or a period that cannot make a batch (HTTP 400); `errors` maps field to messages."""

    def __init__(self, errors: dict[str, list[str] | str]):
        super().__init__(errors)
        self.errors = errors


class BatchRefused(Exception):
    """The clues are not in a state to be sent (HTTP 409)."""


class BatchForbidden(Exception):
    """The user has no staff role in the sending agency (HTTP 403)."""


@dataclass(frozen=True)
class BatchGroup:
    """The clues of one batch to be: all routed to the same recipient."""

    recipient: Agency
    clues: list[Clue]
    copies: list[Agency] = field(default_factory=list)


def half_year(today: datetime.date | None = None) -> Period:
    """Return the half-year containing `today` (1 Jan–30 Jun or 1 Jul–31 Dec)."""
    today = today or local_today()
    if today.month <= 6:
        return Period(datetime.date(today.year, 1, 1), datetime.date(today.year, 6, 30))
    return Period(datetime.date(today.year, 7, 1), datetime.date(today.year, 12, 31))


def batch_may_send(user, agency: Agency) -> bool:  # noqa: ANN001 - a user
    """Return whether `user` acts for `agency` in a staff role (river office, chief, liaison, prosecutor)."""
    return bool(acting_roles(user, agency).intersection(STAFF))


def batches_visible_to(user):  # noqa: ANN001, ANN201 - a user; a QuerySet of TransferBatch
    """Return the batches `user` may see: those sent by or to one of their agencies."""
    agencies = Agency.objects.of_user(user).values("pk")
    return TransferBatch.objects.filter(Q(from_agency__in=agencies) | Q(to_agency__in=agencies))


def _period(period_start: datetime.date, period_end: datetime.date) -> Period:
    try:
        return period_make(period_start, period_end, default=half_year())
    except PeriodInvalid as exc:
        raise BatchInvalid(exc.errors) from exc


def batch_candidates(*, user, agency: Agency, period: Period) -> ClueQuerySet:  # noqa: ANN001 - a user
    """Return the clues `agency` registered in `period` that are still registered and can be sent, of
    those `user` may see: a liaison officer acting for the river office never meets its confidential
    clues here either (DESIGN §5).

    A clue routed to the agency itself (a procuratorate registering a clue in its own district) is
    not sent but accepted, so it is no candidate.
    """
    start, end = period.bounds()
    return (
        Clue.objects.visible_to(user)
        .filter(registering_agency=agency, holder=agency, status=Status.REGISTERED)
        .filter(created_at__gte=start, created_at__lt=end)
        .exclude(routed_to=agency)
    )


def _grouped(clues: Iterable[Clue]) -> list[BatchGroup]:
    by_recipient: dict[int, list[Clue]] = {}
    for clue in clues:
        by_recipient.setdefault(clue.routed_to_id, []).append(clue)
    recipients = Agency.objects.in_bulk(list(by_recipient))
    groups = []
    for recipient_id, members in by_recipient.items():
        copies = Agency.objects.filter(routed_copy_clues__in=[clue.pk for clue in members]).distinct().order_by("code")
        groups.append(BatchGroup(recipients[recipient_id], sorted(members, key=lambda c: c.code), list(copies)))
    return sorted(groups, key=lambda group: group.recipient.code)


def batch_prepare(
    *,
    user,  # noqa: ANN001 - a user
    agency: Agency,
    period_start: datetime.date,
    period_end: datetime.date,
) -> list[BatchGroup]:
    """Return the clues `agency` could send for the period that `user` may see, grouped by the agency
    routing chose for them."""
    period = _period(period_start, period_end)
    clues = batch_candidates(user=user, agency=agency, period=period).select_related(
        "routed_to", "reach", "water_body", "district"
    )
    return _grouped(clues)


def _selected(*, user, agency: Agency, period: Period, clue_ids: list[int] | None) -> list[Clue]:  # noqa: ANN001
    """Lock and return the clues to send; refuse the whole request if any of them cannot go."""
    if clue_ids is None:
        ids = list(batch_candidates(user=user, agency=agency, period=period).values_list("pk", flat=True))
    else:
        ids = sorted(set(clue_ids))
    if not ids:
        raise BatchRefused("该期间没有待移送的线索 / no registered clue of this agency to send in the period")
    # Locked in id order so that two batches over the same clues cannot deadlock.
    clues = list(Clue.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    visible = set(Clue.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    found = {clue.pk: clue for clue in clues if clue.pk in visible}
    start, end = period.bounds()
    invalid = [f"线索 {pk} 不存在 / no such clue: {pk}" for pk in ids if pk not in found]
    refused = []
    for clue in found.values():
        if clue.registering_agency_id != agency.pk:
            invalid.append(f"{clue.code} 不是{agency.name}登记的线索 / not registered by {agency.code}")
        elif not start <= clue.created_at < end:
            invalid.append(f"{clue.code} 不是本期间登记的线索 / not registered in the period")
        elif clue.status != Status.REGISTERED or clue.holder_id != agency.pk:
            refused.append(
                f"{clue.code} 处于“{clue.get_status_display()}”，不能移送 / is {clue.status}, not registered"
            )
        elif clue.routed_to_id == agency.pk:
            refused.append(f"{clue.code} 应由本单位受理，无需移送 / is routed to {agency.code} itself: accept it")
    if invalid:
        raise BatchInvalid({"clue_ids": invalid})
    if refused:
        raise BatchRefused("；".join(refused))
    return [found[pk] for pk in ids]


def _next_number(agency: Agency, year: int) -> str:
    """Return the next letter number of `agency` in `year`: <agency code>-<year>-<n>, n from 1.

    The caller holds the agency's row lock, so numbers are given in turn; the unique constraint on
    TransferBatch.number remains the guard.
    """
    prefix = f"{agency.code}-{year}-"
    taken = TransferBatch.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    last = max((int(number[len(prefix) :]) for number in taken if number[len(prefix) :].isdigit()), default=0)
    return f"{prefix}{last + 1}"


def _letters_write(batches: list[TransferBatch]) -> None:
    """Render and store each batch's letter; remove the files written if one fails (all or nothing)."""
    written: list[TransferBatch] = []
    try:
        for batch in batches:
            batch.letter.save(f"{batch.number}.pdf", ContentFile(letter_pdf(batch)), save=True)
            written.append(batch)
    except BaseException:
        for batch in written:
            batch.letter.storage.delete(batch.letter.name)
        raise


@transaction.atomic
def batch_send(
    *,
    user,  # noqa: ANN001 - a user
    agency: Agency,
    period_start: datetime.date,
    period_end: datetime.date,
    clue_ids: list[int] | None = None,
) -> list[TransferBatch]:
    """Send the agency's registered clues of the period (all, or those of `clue_ids`), one batch and
    one transfer letter per recipient; all or nothing."""
    period = _period(period_start, period_end)
    if not batch_may_send(user, agency):
        raise BatchForbidden(f"您在{agency.name}无权移送线索 / not allowed to send clues for {agency.code}")
    # Serialises the batches of one agency: letter numbers are given in turn.
    Agency.objects.select_for_update().filter(pk=agency.pk).first()
    clues = _selected(user=user, agency=agency, period=period, clue_ids=clue_ids)
    year = local_today().year
    batches = []
    for group in _grouped(clues):
        batch = TransferBatch.objects.create(
            number=_next_number(agency, year),
            from_agency=agency,
            to_agency=group.recipient,
            period_start=period.start,
            period_end=period.end,
            created_by=user,
        )
        for clue in group.clues:
            try:
                clue_step(
                    clue=clue, user=user, step="send", note=f"随移送函{batch.number}移送 / sent in {batch.number}"
                )
            except StepRefused as exc:
                raise BatchRefused(f"{clue.code}: {exc}") from exc
            # A registered clue has never been sent: the transfer just made is its only one.
            Transfer.objects.filter(clue=clue, batch=None).update(batch=batch)
        batches.append(batch)
    _letters_write(batches)
    return batches
