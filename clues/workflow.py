"""The clue workflow of DESIGN §4: which step may follow which, who may take it, and what it does.

registered 登记 → transferred 已移送 → accepted 已受理 → investigating 调查核实 → case_filed 立案 |
not_filed 不立案 → suggestion_issued 诉前检察建议 → rectified 已整改 | litigation 提起诉讼 → closed 办结 →
feedback_given 已反馈; a procuratorate may send a clue back to the river office (反向移送), the river office
on to a responsible unit, and any open clue may be merged into another as a duplicate.

Every step locks the clue's row (and a merge the row of the clue it merges into, both in the order of
their primary keys, so that two merges cannot deadlock), checks the state it is in now, and writes
one ClueEvent: of two users racing, the second finds the state changed and is refused with the reason
(StepRefused → HTTP 409), never with a 403 about a holder it did not choose.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from rivers.models import Agency, AgencyKind, Role

from .deadlines import deadline
from .history import event_record
from .models import Clue, DeadlineRule, Status, Suggestion, Transfer, TransferReason


class StepRefused(Exception):
    """The step is not allowed from the clue's current state (HTTP 409)."""


class StepForbidden(Exception):
    """The user may see the clue but may not take this step (HTTP 403)."""


class StepInvalid(Exception):
    """The step's parameters are wrong (HTTP 400); `errors` maps field to message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


STAFF = (Role.CHIEF, Role.RIVER_OFFICE, Role.PROSECUTOR, Role.LIAISON)
PROSECUTORS = (Role.PROSECUTOR,)
OPEN_STATES = tuple(s for s in Status.values if s not in (Status.CLOSED, Status.FEEDBACK_GIVEN, Status.MERGED))
# A received clue gets its first answer while it is being handled, before it is closed.
RECEIVED_OPEN_STATES = tuple(s for s in OPEN_STATES if s not in (Status.REGISTERED, Status.TRANSFERRED))
# A duplicate is merged before a case is decided on it.
MERGEABLE_STATES = (Status.REGISTERED, Status.TRANSFERRED, Status.ACCEPTED, Status.INVESTIGATING)
# Where the agency holding a clue is not a procuratorate (a reverse transfer), it closes the clue
# when it has dealt with it; a procuratorate closes after deciding (not filed) or concluding.
CLOSABLE_BY_PROCURATORATE = (Status.NOT_FILED, Status.RECTIFIED, Status.LITIGATION)
CLOSABLE_BY_OTHERS = (Status.ACCEPTED, Status.INVESTIGATING)
# Agencies a river office may pass a clue on to (seed 002 §三(二): 河长制责任单位; seed 003: police, ecology).
UNIT_KINDS = (AgencyKind.RESPONSIBLE_UNIT, AgencyKind.ECOLOGY_BUREAU, AgencyKind.POLICE)


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    from_states: tuple[str, ...]
    to_state: str | None  # None: the step records something and leaves the state as it is
    roles: tuple[str, ...] = STAFF
    holder_kinds: tuple[str, ...] = ()  # empty: any kind of agency may hold the clue
    perform: Callable[..., dict[str, Any]] = field(default=lambda clue, user, **params: {}, compare=False)
    # Returns why the step cannot be taken on this clue (and the step's parameters, when they are
    # known) beyond its state and holder, or None.
    refusal: Callable[..., str | None] = field(default=lambda clue, **params: None, compare=False)
    # The parameters the step reads besides `note` (which every step takes), and those it cannot do
    # without: the desk builds each step's form from them (GET /api/v1/clues/{id}/steps/).
    params: tuple[str, ...] = ()
    required: tuple[str, ...] = ()


def acting_roles(user, agency: Agency) -> set[str]:  # noqa: ANN001 - a user
    """Return the roles `user` acts in for `agency`: their own there, and a liaison officer's for the
    procuratorate and river office of the liaison office's district."""
    linked = agency.kind in (AgencyKind.PROCURATORATE, AgencyKind.RIVER_OFFICE)
    # One statement for both: a membership elsewhere can only be a linking liaison office's.
    with connection.cursor() as cursor:
        cursor.execute(ACTING_ROLES_SQL, [user.pk, agency.pk, linked, agency.district_id])
        rows = cursor.fetchall()
    return {role if agency_id == agency.pk else Role.LIAISON for agency_id, role in rows}


# A user's memberships in an agency, and in the liaison office of its district as a liaison officer when
# the agency is one the office links (a procuratorate or a river office: $3). Raw: this runs on every
# clue shown with its steps.
ACTING_ROLES_SQL = f"""
SELECT member.agency_id, member.role FROM rivers_membership member
JOIN rivers_agency agency ON agency.id = member.agency_id
WHERE member.user_id = %s
  AND (member.agency_id = %s
       OR (%s AND agency.district_id = %s AND agency.kind = '{AgencyKind.LIAISON_OFFICE.value}'
           AND member.role = '{Role.LIAISON.value}'))
"""  # noqa: S608 - constants, no input


def _incoming_transfer(clue: Clue) -> Transfer | None:
    """Return the transfer that brought the clue to the agency holding it."""
    return clue.transfers.filter(to_agency=clue.holder).order_by("-sent_at").first()


def _today() -> datetime.date:
    return timezone.localdate()


def _transfer(clue: Clue, user, *, to: Agency, reason: str, copies=(), override_reason: str = "") -> Transfer:  # noqa: ANN001
    now = timezone.now()
    transfer = Transfer.objects.create(
        clue=clue,
        from_agency=clue.holder,
        to_agency=to,
        reason=reason,
        override_reason=override_reason,
        sent_by=user,
        sent_at=now,
        first_answer_due=deadline(DeadlineRule.FIRST_ANSWER, timezone.localdate(now)),
    )
    transfer.copies.set(copies)
    clue.holder = to
    return transfer


def _send(clue: Clue, user, *, to: Agency | None = None, override_reason: str = "", **_) -> dict:  # noqa: ANN001
    """Send a registered clue to the procuratorate routing chose, or to another with a written reason."""
    if to is not None and to != clue.routed_to:
        if not override_reason.strip():
            raise StepInvalid({"override_reason": "改变接收单位须书面说明理由 / a written reason is required"})
        reason = TransferReason.MANUAL
    else:
        to, reason, override_reason = clue.routed_to, clue.routing_reason, ""
    if to == clue.holder:
        raise StepRefused("线索已在接收单位，请直接受理 / the clue is already with its recipient: accept it")
    transfer = _transfer(
        clue, user, to=to, reason=reason, copies=clue.routing_copies.all(), override_reason=override_reason.strip()
    )
    return {"transfer": transfer.pk, "to": to.code, "reason": reason, "copies": [a.code for a in transfer.copies.all()]}


def _accept(clue: Clue, user, **_) -> dict:  # noqa: ANN001
    incoming = _incoming_transfer(clue)
    if incoming is not None:
        incoming.accepted_at = timezone.now()
        incoming.save(update_fields=["accepted_at"])
    return {"transfer": incoming.pk if incoming else None}


def _accept_refusal(clue: Clue, **_) -> str | None:
    if clue.status == Status.REGISTERED and clue.holder_id != clue.routed_to_id:
        return "线索须先移送 / the clue must be sent to its recipient first"
    return None


def _close_refusal(clue: Clue, **_) -> str | None:
    allowed = CLOSABLE_BY_PROCURATORATE if clue.holder.kind == AgencyKind.PROCURATORATE else CLOSABLE_BY_OTHERS
    if clue.status not in allowed:
        return f"{clue.holder.name}不能办结处于“{clue.get_status_display()}”的线索 / cannot close from {clue.status}"
    return None


def _answer(clue: Clue, user, **_) -> dict:  # noqa: ANN001
    """Record the first answer on how a received clue is handled (seed 000 §二(三): within a month)."""
    incoming = _incoming_transfer(clue)
    if incoming is None or incoming.first_answer_at is not None:
        raise StepRefused("没有待首次答复的移送 / no transfer awaits a first answer")
    incoming.first_answer_at = timezone.now()
    incoming.save(update_fields=["first_answer_at"])
    return {"transfer": incoming.pk}


def _file_case(clue: Clue, user, *, case_number: str = "", **_) -> dict:  # noqa: ANN001
    clue.case_number = case_number.strip()
    return {"case_number": clue.case_number}


def _issue_suggestion(
    clue: Clue,
    user,
    *,
    addressee: Agency | None = None,
    content: str = "",
    urgent: bool = False,  # noqa: ANN001
    number: str = "",
    pre_notify: bool = False,
    **_,
) -> dict:
    errors = {}
    if addressee is None:
        errors["addressee"] = "须指定被建议单位 / the addressee is required"
    if not content.strip():
        errors["content"] = "须填写建议内容 / the content is required"
    if errors:
        raise StepInvalid(errors)
    now = timezone.now()
    rule = DeadlineRule.SUGGESTION_REPLY_URGENT if urgent else DeadlineRule.SUGGESTION_REPLY
    suggestion = Suggestion.objects.create(
        clue=clue,
        number=number.strip(),
        addressee=addressee,
        content=content.strip(),
        urgent=urgent,
        # Seed 002 §三(二): suggestions on river matters may be notified to the river office beforehand.
        pre_notified_at=now if pre_notify else None,
        issued_by=user,
        issued_at=now,
        reply_due=deadline(rule, timezone.localdate(now)),
    )
    return {
        "suggestion": suggestion.pk,
        "addressee": addressee.code,
        "urgent": urgent,
        "reply_due": suggestion.reply_due,
    }


def _record_outcome(
    clue: Clue,
    user,
    *,
    judgement: str = "",
    restoration_done_on: datetime.date | None = None,  # noqa: ANN001
    outcome_note: str = "",
    **_,
) -> dict:
    before = {
        "judgement": clue.judgement,
        "restoration_done_on": clue.restoration_done_on,
        "outcome_note": clue.outcome_note,
    }
    if not (judgement.strip() or restoration_done_on or outcome_note.strip()):
        raise StepInvalid({"outcome_note": "须填写结果 / give a judgement, a restoration date or an outcome"})
    clue.judgement = judgement.strip() or clue.judgement
    clue.restoration_done_on = restoration_done_on or clue.restoration_done_on
    clue.outcome_note = outcome_note.strip() or clue.outcome_note
    after = {
        "judgement": clue.judgement,
        "restoration_done_on": clue.restoration_done_on,
        "outcome_note": clue.outcome_note,
    }
    return {"before": before, "after": after}


def _close(clue: Clue, user, **_) -> dict:  # noqa: ANN001
    clue.closed_at = timezone.now()
    incoming = _incoming_transfer(clue)
    if incoming is not None:
        # Seed 002 §三(二): feedback to the transferring side within 10 days after closing.
        incoming.feedback_due = deadline(DeadlineRule.FEEDBACK, _today())
        incoming.save(update_fields=["feedback_due"])
    return {"feedback_due": incoming.feedback_due if incoming else None}


def _give_feedback(clue: Clue, user, **_) -> dict:  # noqa: ANN001
    incoming = _incoming_transfer(clue)
    if incoming is not None:
        incoming.feedback_at = timezone.now()
        incoming.save(update_fields=["feedback_at"])
    return {"transfer": incoming.pk if incoming else None, "to": incoming.from_agency.code if incoming else None}


def reverse_recipient(clue: Clue) -> Agency:
    """Return the river office a procuratorate sends a clue back to: the clue's district's, or the
    city's for cross-district and outside-district clues."""
    area = clue.district if clue.routing_reason == "district" and clue.district else clue.city
    office = Agency.objects.river_offices().serving(area).order_by("code").first()
    if office is None:
        raise StepRefused(f"{area} 没有河长办 / no river office serves {area}")
    return office


def _reverse(clue: Clue, user, **_) -> dict:  # noqa: ANN001
    office = reverse_recipient(clue)
    transfer = _transfer(clue, user, to=office, reason=TransferReason.REVERSE)
    return {"transfer": transfer.pk, "to": office.code}


def _transfer_to_unit(clue: Clue, user, *, to: Agency | None = None, **_) -> dict:  # noqa: ANN001
    if to is None or to.kind not in UNIT_KINDS:
        raise StepInvalid({"to": "须指定河长制责任单位 / name a responsible unit (or police, ecology bureau)"})
    transfer = _transfer(clue, user, to=to, reason=TransferReason.MANUAL)
    return {"transfer": transfer.pk, "to": to.code}


def _merge_refusal(clue: Clue, *, into: Clue | None = None, **_) -> str | None:
    """Return why `clue` cannot be merged into `into` as they are now (both rows locked), or None."""
    if into is not None and into.status == Status.MERGED:
        return f"线索{into.code}已合并到其他线索 / {into.code} has itself been merged into another clue"
    return None


def _merge(clue: Clue, user, *, into: Clue | None = None, **_) -> dict:  # noqa: ANN001
    if into is None:
        raise StepInvalid({"into": "须指定合并到的线索 / name the clue to merge into"})
    if into.pk == clue.pk:
        raise StepInvalid({"into": "不能合并到自身 / a clue cannot be merged into itself"})
    clue.merged_into = into
    event_record(
        clue=into, actor=user, action="absorb", note=f"合并了重复线索 {clue.code}", data={"duplicate": clue.code}
    )
    return {"into": into.code}


STEPS: dict[str, Step] = {
    step.name: step
    for step in [
        Step(
            "send",
            "移送 Send",
            (Status.REGISTERED,),
            Status.TRANSFERRED,
            perform=_send,
            params=("to", "override_reason"),
        ),
        Step(
            "accept",
            "受理 Accept",
            (Status.REGISTERED, Status.TRANSFERRED),
            Status.ACCEPTED,
            perform=_accept,
            refusal=_accept_refusal,
        ),
        Step("answer", "首次答复 First answer", RECEIVED_OPEN_STATES, None, perform=_answer),
        Step(
            "investigate",
            "调查核实 Investigate",
            (Status.ACCEPTED,),
            Status.INVESTIGATING,
            PROSECUTORS,
            (AgencyKind.PROCURATORATE,),
        ),
        Step(
            "file_case",
            "立案 File a case",
            (Status.INVESTIGATING,),
            Status.CASE_FILED,
            PROSECUTORS,
            (AgencyKind.PROCURATORATE,),
            _file_case,
            params=("case_number",),
        ),
        Step(
            "not_file",
            "不立案 Do not file",
            (Status.INVESTIGATING,),
            Status.NOT_FILED,
            PROSECUTORS,
            (AgencyKind.PROCURATORATE,),
        ),
        Step(
            "issue_suggestion",
            "发出诉前检察建议 Issue a suggestion",
            (Status.CASE_FILED,),
            Status.SUGGESTION_ISSUED,
            PROSECUTORS,
            (AgencyKind.PROCURATORATE,),
            _issue_suggestion,
            params=("addressee", "content", "urgent", "number", "pre_notify"),
            required=("addressee", "content"),
        ),
        Step(
            "rectified",
            "已整改 Rectified",
            (Status.SUGGESTION_ISSUED,),
            Status.RECTIFIED,
            PROSECUTORS,
            (AgencyKind.PROCURATORATE,),
        ),
        Step(
            "litigate",
            "提起诉讼 Litigate",
            (Status.CASE_FILED, Status.SUGGESTION_ISSUED),
            Status.LITIGATION,
            PROSECUTORS,
            (AgencyKind.PROCURATORATE,),
        ),
        Step(
            "record_outcome",
            "记录结果 Record an outcome",
            (Status.RECTIFIED, Status.LITIGATION, Status.CLOSED, Status.FEEDBACK_GIVEN),
            None,
            perform=_record_outcome,
            params=("judgement", "restoration_done_on", "outcome_note"),
        ),
        Step(
            "close",
            "办结 Close",
            CLOSABLE_BY_PROCURATORATE + CLOSABLE_BY_OTHERS,
            Status.CLOSED,
            perform=_close,
            refusal=_close_refusal,
        ),
        Step("give_feedback", "反馈 Give feedback", (Status.CLOSED,), Status.FEEDBACK_GIVEN, perform=_give_feedback),
        Step(
            "reverse",
            "反向移送河长办 Send back to the river office",
            (Status.ACCEPTED, Status.INVESTIGATING, Status.NOT_FILED),
            Status.TRANSFERRED,
            PROSECUTORS,
            (AgencyKind.PROCURATORATE,),
            _reverse,
        ),
        Step(
            "transfer_to_unit",
            "移送责任单位 Pass to a responsible unit",
            (Status.ACCEPTED,),
            Status.TRANSFERRED,
            (Role.CHIEF, Role.RIVER_OFFICE, Role.LIAISON),
            (AgencyKind.RIVER_OFFICE,),
            _transfer_to_unit,
            params=("to",),
            required=("to",),
        ),
        Step(
            "merge",
            "合并为重复 Merge as duplicate",
            MERGEABLE_STATES,
            Status.MERGED,
            perform=_merge,
            refusal=_merge_refusal,
            params=("into",),
            required=("into",),
        ),
    ]
}


def steps_available(clue: Clue, user) -> list[Step]:  # noqa: ANN001
    """Return the steps `user` could take on `clue` now (what the review map offers)."""
    roles = acting_roles(user, clue.holder)
    return [
        step
        for step in STEPS.values()
        if clue.status in step.from_states
        and roles.intersection(step.roles)
        and (not step.holder_kinds or clue.holder.kind in step.holder_kinds)
        and step.refusal(clue) is None
    ]


# Who a suggestion may be addressed to: the administrative organs of the clue's area (seed 002 §三(二)).
ADDRESSEE_KINDS = (AgencyKind.RIVER_OFFICE, *UNIT_KINDS)


def step_choices(clue: Clue, step: Step) -> dict[str, QuerySet[Agency]]:
    """Return, for each agency parameter of `step`, the agencies the desk's form offers on `clue`.

    The workflow itself accepts any agency of the right kind; these are the ones of the clue's area.
    """
    areas = [pk for pk in (clue.district_id, clue.city_id) if pk]
    of_area = Agency.objects.filter(district_id__in=areas).order_by("code")
    if step.name == "send":
        # Another procuratorate of the clue's city (an override, with a written reason).
        of_city = Q(district_id__in=areas) | (Q(district__parent_id=clue.city_id) if clue.city_id else Q(pk__in=[]))
        return {"to": Agency.objects.procuratorates().filter(of_city).order_by("code")}
    if step.name == "transfer_to_unit":
        return {"to": of_area.filter(kind__in=UNIT_KINDS)}
    if step.name == "issue_suggestion":
        return {"addressee": of_area.filter(kind__in=ADDRESSEE_KINDS)}
    return {}


def step_recipient(clue: Clue, step: Step) -> Agency | None:
    """Return the agency a step sends the clue to without being told (routing's, or the river office)."""
    if step.name == "send":
        return clue.routed_to
    if step.name == "reverse":
        try:
            return reverse_recipient(clue)
        except StepRefused:
            return None
    return None


def suggestions_to_answer(clue: Clue, user) -> list[Suggestion]:  # noqa: ANN001 - a user
    """Return the suggestions on `clue` awaiting a written reply that `user` may give (for their addressee)."""
    pending = clue.suggestions.filter(reply_at__isnull=True).select_related("addressee").order_by("issued_at")
    return [suggestion for suggestion in pending if acting_roles(user, suggestion.addressee)]


def clues_lock(*pks: int) -> dict[int, Clue]:
    """Lock the rows of the clues `pks`, in the order of their keys, and return them by key.

    Only the clue rows are locked (no agency row, which every step on every clue of that agency
    would queue behind), and always in one order, so that steps taking several clues cannot deadlock.
    The rows are read without joins: a clue whose holder changed while we waited for its lock is
    then read as it is now instead of vanishing from a join (PostgreSQL re-checks joins on the new row).
    """
    rows = Clue.objects.select_for_update(of=("self",)).filter(pk__in=pks).order_by("pk")
    return {row.pk: row for row in rows}


def clues_passed_on_by(user) -> QuerySet[Clue]:  # noqa: ANN001 - a user
    """Return the clues an agency the user is a member of registered or sent on.

    The user knows these exist even when a step took them out of their sight (a confidential clue
    sent on): a late step on one is a lost race (409), not a clue that does not exist (404). Only
    the user's own agencies count, not those seen through a liaison office.
    """
    own = Agency.objects.filter(memberships__user=user).values("pk")
    sent = Transfer.objects.filter(clue=OuterRef("pk"), from_agency__in=own)
    return Clue.objects.filter(Q(registering_agency__in=own) | Exists(sent))


def _changed_meanwhile(seen: Clue, now: Clue, user, definition: Step) -> str | None:  # noqa: ANN001
    """Return why the caller's step lost a race: the clue moved on since the caller read it, from a
    holder where the caller could take the step; None if the caller never could."""
    if (seen.status, seen.holder_id) == (now.status, now.holder_id):
        return None
    if not acting_roles(user, seen.holder).intersection(definition.roles):
        return None
    return (
        f"线索已被他人办理，现由{now.holder.name}承办、处于“{now.get_status_display()}” / "
        f"the clue changed meanwhile: it is now {now.status}, held by {now.holder.code}"
    )


@transaction.atomic
def clue_step(*, clue: Clue, user, step: str, note: str = "", **params: Any) -> Clue:  # noqa: ANN001
    """Take `step` on `clue` as `user`; raise StepRefused, StepForbidden or StepInvalid otherwise.

    The caller has checked that the user may see the clue; `clue` is the clue as the caller read it,
    so that a step that became impossible because someone else acted first is a lost race (409).
    """
    definition = STEPS.get(step)
    if definition is None:
        raise StepInvalid({"step": f"未知操作 / unknown step {step!r}"})
    into = params.get("into")
    rows = clues_lock(clue.pk, *([into.pk] if isinstance(into, Clue) else []))
    locked = rows[clue.pk]
    if isinstance(into, Clue):
        params["into"] = rows[into.pk]
    if locked.status not in definition.from_states:
        raise StepRefused(
            f"线索处于“{locked.get_status_display()}”，不能“{definition.label}” / "
            f"cannot {step} a clue that is {locked.status}"
        )
    if definition.holder_kinds and locked.holder.kind not in definition.holder_kinds:
        raise StepRefused(f"承办单位{locked.holder.name}不能“{definition.label}” / {locked.holder.kind} cannot {step}")
    refusal = definition.refusal(locked, **params)
    if refusal:
        raise StepRefused(refusal)
    if not acting_roles(user, locked.holder).intersection(definition.roles):
        # Allowed on the clue as the caller saw it, not on the clue as it is now: a lost race.
        lost = _changed_meanwhile(clue, locked, user, definition)
        if lost:
            raise StepRefused(lost)
        raise StepForbidden(
            f"您在{locked.holder.name}无权“{definition.label}” / not allowed to {step} for {locked.holder.code}"
        )
    before = locked.status
    holder = locked.holder
    data = definition.perform(locked, user, **params) or {}
    if definition.to_state is not None:
        locked.status = definition.to_state
    locked.save()
    event_record(
        clue=locked,
        actor=user,
        agency=holder,
        action=step,
        from_status=before,
        to_status=locked.status,
        note=note.strip(),
        data=data,
    )
    return locked


@transaction.atomic
def suggestion_reply(*, suggestion: Suggestion, user, text: str) -> Suggestion:  # noqa: ANN001
    """Record the addressee's written reply to a suggestion (seed 004 §二(五): 书面回复检察机关)."""
    clue = clues_lock(suggestion.clue_id)[suggestion.clue_id]
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.reply_at is not None:
        raise StepRefused("该建议已回复 / this suggestion has been replied to")
    if not acting_roles(user, suggestion.addressee):
        raise StepForbidden(f"只有{suggestion.addressee.name}可以回复 / only the addressee may reply")
    if not text.strip():
        raise StepInvalid({"text": "须填写书面回复 / the written reply is required"})
    suggestion.reply_at = timezone.now()
    suggestion.reply_text = text.strip()
    suggestion.save(update_fields=["reply_at", "reply_text"])
    event_record(
        clue=clue,
        actor=user,
        agency=suggestion.addressee,
        action="suggestion_reply",
        from_status=clue.status,
        to_status=clue.status,
        note=text.strip(),
        data={"suggestion": suggestion.pk},
    )
    return suggestion
