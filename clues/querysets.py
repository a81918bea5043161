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

    One SQL text per form whatever the user: the sets are array parameters and the clue's columns are
    compiled through the ORM (so the alias is right in a subquery too). Built from Q objects and Exists,
    the rule cost more to compile than the rest of a clue's registration (issue 7 §8, issue 10).

    The rule has two forms that answer alike (tests/clues/test_access.py holds them to each other):

    - NAMED: the visible clues named through the indexes, a UNION ALL of one index scan per way of seeing
      a clue, which the query joins. Tested on each clue instead, a district's list of its 1,000 clues
      scanned the city's 10^6 (2.2 s, issue 10).
    - PER_CLUE: EXISTS probes on each clue the rest of the query leaves. PostgreSQL cannot probe the union
      by key, so a tile or a point's neighbourhood would build the whole named set first: for a
      municipal procuratorate, most of the city's clues (900,000 rows, 1.5 s). Each EXISTS is a plain
      correlated lookup (the transfer's copies apart, not nested inside it), so that PostgreSQL may
      instead hash what it looks up once when the query tests most clues: a municipal procuratorate's
      whole list was 697,000 index probes of the transfers, and a nested probe of the copies under each
      (8.2 s among 10^6 clues; counted with the lookups hashed, 0.6 s).

    Without a `per_clue` choice, a user working in a municipal procuratorate gets PER_CLUE (the set it
    sees is most of its city: naming it costs as much as testing every clue) and everyone else NAMED.
    """

    output_field = BooleanField()
    columns = ("pk", "registering_agency", "holder", "city", "routing_reason", "confidential")
    NAMED = """(
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
    PER_CLUE = """(
        ({registering_agency} = ANY(%s::bigint[]) OR {holder} = ANY(%s::bigint[])
         OR EXISTS (SELECT 1 FROM clues_transfer moved WHERE moved.clue_id = {pk}
                    AND (moved.from_agency_id = ANY(%s::bigint[]) OR moved.to_agency_id = ANY(%s::bigint[])))
         OR EXISTS (SELECT 1 FROM clues_transfer_copies copy JOIN clues_transfer moved ON moved.id = copy.transfer_id
                    WHERE moved.clue_id = {pk} AND copy.agency_id = ANY(%s::bigint[]))
         OR EXISTS (SELECT 1 FROM clues_suggestion addressed
                    WHERE addressed.clue_id = {pk} AND addressed.addressee_id = ANY(%s::bigint[]))
         -- the municipal procuratorate: cross-district and outside-district clues, and confidential ones
         OR ({city} = ANY(%s::bigint[])
             AND ({routing_reason} IN ('cross_district', 'outside_districts') OR {confidential})))
        AND (NOT {confidential} OR {holder} = ANY(%s::bigint[]) OR {city} = ANY(%s::bigint[]))
    )"""

    def __init__(self, agencies: list[int], members_of: list[int], cities: list[int], *, per_clue: bool | None = None):
        super().__init__(output_field=BooleanField())
        self.sets = (list(agencies), list(members_of), list(cities))
        self.per_clue = bool(cities) if per_clue is None else per_clue
        self.sources = [F(name) for name in self.columns]

    def get_source_expressions(self):
        return self.sources

    def set_source_expressions(self, exprs):
        self.sources = list(exprs)

    def as_sql(self, compiler, connection):  # noqa: ARG002 - Django's signature
        sql = {name: compiler.compile(column)[0] for name, column in zip(self.columns, self.sources, strict=True)}
        agencies, members_of, cities = self.sets
        sql = self.rule_sql(sql, "%s", "%s", "%s", per_clue=self.per_clue)
        return sql, self.rule_params(agencies, members_of, cities)

    @classmethod
    def rule_sql(cls, columns: dict[str, str], agencies: str, members_of: str, cities: str, *, per_clue: bool) -> str:
        """The rule's SQL with the clue's `columns` (SQL by name) and the three sets' placeholders (for a
        prepared statement, `$n`; for the ORM, %s with rule_params()); both forms take them in one order."""
        placeholders = iter([agencies] * 6 + [cities, members_of, cities])
        template = cls.PER_CLUE if per_clue else cls.NAMED
        return re.sub(r"%s", lambda _: next(placeholders), template.format(**columns))

    @staticmethod
    def rule_params(agencies: list[int], members_of: list[int], cities: list[int]) -> list[list[int]]:
        return [agencies] * 6 + [cities, members_of, cities]


def tests_each_clue(queryset) -> bool:  # noqa: ANN001 - a QuerySet of Clue
    """Say whether `queryset` applies the visibility rule in its PER_CLUE form (VisibleTo)."""
    # filter(VisibleTo(...)) is kept as `VisibleTo(...) = true` (an Exact lookup) among the conditions.
    rules = (getattr(node, "lhs", node) for node in queryset.query.where.children)
    return any(isinstance(rule, VisibleTo) and rule.per_clue for rule in rules)


def clue_seen_by(user, clue_field: str = "clue_id") -> Exists:  # noqa: ANN001 - a user
    """An EXISTS test that `user` may see the clue the outer row names in `clue_field`, for a filter that
    puts the rule inside OR or NOT (a notification with no clue, a batch's hidden transfers).

    The rule is probed on that one clue through its primary key (PER_CLUE). `clue__in=visible_to(user)`
    there became a subplan PostgreSQL can only build whole: for a municipal procuratorate most of its
    city's clues, too many to hash, so they were kept as a list and searched once per outer row (150
    notifications about clues among 10^6: 2-4 s a statement, 24.6 s for a page of the inbox in make bench).
    """
    from .models import Clue

    return Exists(Clue.objects.visible_to(user, per_clue=True).filter(pk=OuterRef(clue_field)))


class ClueQuerySet(SpatialQuerySet):
    def visible_to(self, user, *, per_clue: bool | None = None) -> ClueQuerySet:  # noqa: ANN001 - a user
        """Return the clues `user` may see; any other clue must look as if it did not exist.

        - an agency sees the clues it registered, holds, sent, received, was copied on or was
          addressed a suggestion about;
        - the municipal procuratorate sees every cross-district and outside-district clue of its city;
        - a confidential clue is seen only by its holder and the municipal procuratorate (seed 003
          §三: "对于需要保密的内容，应当予以特别说明").

        `per_clue` chooses the SQL form of the rule (VisibleTo says when each is cheaper); both answer alike.
        """
        if not user.is_authenticated:
            return self.none()
        return self.filter(VisibleTo(*agencies_of(user), per_clue=per_clue))

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
