"""Set-level reads of clues; who may see what (DESIGN §5) is decided here, for every endpoint."""

from __future__ import annotations

import datetime
import re

from django.db import connection
from django.db.models import BooleanField, Exists, Expression, F, OuterRef, Q

from rivers.models import DistrictLevel
from rivers.querysets import AGENCIES_OF_USER_SQL, SpatialQuerySet

AGENCIES_SQL = f"""
SELECT agency.id, member.agency_id IS NOT NULL, agency.kind, area.level, agency.district_id
FROM rivers_agency agency
JOIN rivers_district area ON area.id = agency.district_id
LEFT JOIN (SELECT DISTINCT agency_id FROM rivers_membership WHERE user_id = %s) member
    ON member.agency_id = agency.id
WHERE agency.id IN ({AGENCIES_OF_USER_SQL})
"""  # noqa: S608 - two constants, no input


def agencies_of(user) -> tuple[list[int], list[int], list[int]]:  # noqa: ANN001 - a user
    """Return the ids of the agencies whose work `user` sees, of those `user` is a member of, and of the
    cities whose municipal procuratorate `user` works in, read in one statement.

    The same sets as Agency.objects.of_user() and municipal_procuratorates_of(), without the ORM's cost:
    the visibility rule needs them on every path to a clue.
    """
    with connection.cursor() as cursor:
        cursor.execute(AGENCIES_SQL, [user.pk, user.pk, user.pk])
        rows = cursor.fetchall()
    agencies, members_of, cities = [], [], []
    for pk, member, kind, district_level, district_id in sorted(rows):
        agencies.append(pk)
        if member:
            members_of.append(pk)
            if kind == "procuratorate" and district_level == DistrictLevel.CITY:
                cities.append(district_id)
    return agencies, members_of, cities


# The states of a clue no longer worked on (ClueQuerySet.open() leaves them out).
FINISHED_STATES = ("closed", "feedback_given", "merged")


class VisibleTo(Expression):
    """True for the clues seen by a user who sees the work of `agencies`, is a member of `members_of` and
    works in the municipal procuratorate of `cities` (ClueQuerySet.visible_to has the rule in words).

    One SQL text whatever the user: the sets are array parameters and the clue's columns are compiled
    through the ORM (so the alias is right in a subquery too). Built from Q objects and Exists, the rule
    cost more to compile than the rest of a clue's registration (issue 7 §8, issue 10).

    The clues a user may see are named by the indexes, one branch of a UNION ALL per way of seeing a clue
    (each an index scan on the agency or the city), not found by testing the rule on every clue: written
    as EXISTS subplans on each row, a district's list of its 1,000 clues scanned all 10^6 of the city's
    (2.2 s, issue 10). PostgreSQL flattens the UNION ALL under IN, so for one clue (a detail, a check
    before a transition) it probes each branch by the clue's key instead of building the whole set.
    """

    output_field = BooleanField()
    columns = ("pk", "holder", "city", "confidential")
    template = """(
        {pk} IN (
            SELECT seen.id FROM clues_clue seen WHERE seen.registering_agency_id = ANY(%s::bigint[])
            UNION ALL SELECT seen.id FROM clues_clue seen WHERE seen.holder_id = ANY(%s::bigint[])
            UNION ALL SELECT moved.clue_id FROM clues_transfer moved WHERE moved.from_agency_id = ANY(%s::bigint[])
            UNION ALL SELECT moved.clue_id FROM clues_transfer moved WHERE moved.to_agency_id = ANY(%s::bigint[])
            UNION ALL SELECT moved.clue_id FROM clues_transfer_copies copy
                      JOIN clues_transfer moved ON moved.id = copy.transfer_id WHERE copy.agency_id = ANY(%s::bigint[])
            UNION ALL SELECT addressed.clue_id FROM clues_suggestion addressed
                      WHERE addressed.addressee_id = ANY(%s::bigint[])
            -- the municipal procuratorate: cross-district and outside-district clues, and confidential ones
            UNION ALL SELECT seen.id FROM clues_clue seen WHERE seen.city_id = ANY(%s::bigint[])
                      AND (seen.routing_reason IN ('cross_district', 'outside_districts') OR seen.confidential))
        AND (NOT {confidential} OR {holder} = ANY(%s::bigint[]) OR {city} = ANY(%s::bigint[]))
    )"""

    def __init__(self, agencies: list[int], members_of: list[int], cities: list[int]):
        super().__init__(output_field=BooleanField())
        self.sets = (list(agencies), list(members_of), list(cities))
        self.sources = [F(name) for name in self.columns]

    def get_source_expressions(self):
        return self.sources

    def set_source_expressions(self, exprs):
        self.sources = list(exprs)

    def as_sql(self, compiler, connection):  # noqa: ARG002 - Django's signature
        sql = {name: compiler.compile(column)[0] for name, column in zip(self.columns, self.sources, strict=True)}
        agencies, members_of, cities = self.sets
        return self.rule_sql(sql, "%s", "%s", "%s"), self.rule_params(agencies, members_of, cities)

    @classmethod
    def rule_sql(cls, columns: dict[str, str], agencies: str, members_of: str, cities: str) -> str:
        """The rule's SQL with the clue's `columns` (SQL by name) and the three sets' placeholders (for a
        prepared statement, `$n`; for the ORM, %s with rule_params())."""
        placeholders = iter([agencies] * 6 + [cities, members_of, cities])
        return re.sub(r"%s", lambda _: next(placeholders), cls.template.format(**columns))

    @staticmethod
    def rule_params(agencies: list[int], members_of: list[int], cities: list[int]) -> list[list[int]]:
        return [agencies] * 6 + [cities, members_of, cities]


class ClueQuerySet(SpatialQuerySet):
    def visible_to(self, user) -> ClueQuerySet:  # noqa: ANN001 - a user
        """Return the clues `user` may see; any other clue must look as if it did not exist.

        - an agency sees the clues it registered, holds, sent, received, was copied on or was
          addressed a suggestion about;
        - the municipal procuratorate sees every cross-district and outside-district clue of its city;
        - a confidential clue is seen only by its holder and the municipal procuratorate (seed 003
          §三: "对于需要保密的内容，应当予以特别说明").
        """
        if not user.is_authenticated:
            return self.none()
        return self.filter(VisibleTo(*agencies_of(user)))

    def open(self) -> ClueQuerySet:
        return self.exclude(status__in=FINISHED_STATES)

    def overdue(self, today: datetime.date) -> ClueQuerySet:
        """Return the clues with a deadline past on `today` and not met: a first answer on the open clue's
        transfer, feedback after closing, or the reply to a suggestion (the sweep's deadlines, DESIGN §4)."""
        from .models import Status, Suggestion, Transfer

        done = [Status.CLOSED, Status.FEEDBACK_GIVEN, Status.MERGED]
        late_answer = Transfer.objects.filter(
            clue=OuterRef("pk"), first_answer_at__isnull=True, first_answer_due__lt=today
        )
        late_feedback = Transfer.objects.filter(clue=OuterRef("pk"), feedback_at__isnull=True, feedback_due__lt=today)
        late_reply = Suggestion.objects.filter(clue=OuterRef("pk"), reply_at__isnull=True, reply_due__lt=today)
        return self.filter((Exists(late_answer) & ~Q(status__in=done)) | Exists(late_feedback) | Exists(late_reply))

    def mine(self, user) -> ClueQuerySet:  # noqa: ANN001 - a user
        """Return the clues `user` registered or one of `user`'s agencies holds (what is on their desk)."""
        from rivers.models import Membership

        return self.filter(Q(registered_by=user) | Q(holder__in=Membership.objects.filter(user=user).values("agency")))

    def registered_between(self, start: datetime.date | None, end: datetime.date | None) -> ClueQuerySet:
        """Return the clues registered from `start` to `end`, both days included (local days)."""
        queryset = self
        if start:
            queryset = queryset.filter(created_at__date__gte=start)
        if end:
            queryset = queryset.filter(created_at__date__lte=end)
        return queryset
