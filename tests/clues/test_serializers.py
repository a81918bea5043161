"""A clue's answer written out by hand (clues.serializers.clue_summary) is what DRF's fields give."""

import datetime

from rest_framework import serializers as drf
from rest_framework.test import APIRequestFactory

from clues.api.clues import with_related
from clues.models import Clue
from clues.serializers import ClueDetailSerializer, ClueSerializer
from clues.workflow import clue_step
from rivers.models import Agency
from tests.clues.conftest import client_for, register


def every_kind_of_clue(people) -> None:  # noqa: ANN001
    """Clues in a district, on a cross-district reach (copies), in no district, confidential, merged,
    closed with an outcome, with a transfer and a suggestion."""
    west_ro, proc, city_ro = people["west_ro"], people["west_proc"], people["city_ro"]
    own = register(west_ro, "990001-RCO", 4_000, 1_050)
    clue_step(clue=own, user=west_ro, step="send")
    cross = register(west_ro, "990001-RCO", 7_000, 5_020)
    clue_step(clue=cross, user=west_ro, step="send")
    register(west_ro, "990001-RCO", 3_000, 1_050, confidential=True)
    register(city_ro, "990000-RCO", 5_000, 15_000)
    twin = register(west_ro, "990001-RCO", 4_010, 1_055)
    clue_step(clue=twin, user=west_ro, step="merge", into=own)
    for step in ("accept", "investigate"):
        clue_step(clue=own, user=proc, step=step)
    clue_step(clue=own, user=proc, step="file_case", case_number="綦检公益〔2026〕1号")
    river_office = Agency.objects.get(code="990001-RCO")
    clue_step(clue=own, user=proc, step="issue_suggestion", addressee=river_office, content="请依法履职")
    Clue.objects.filter(pk=own.pk).update(
        restoration_done_on=datetime.date(2026, 5, 1), closed_at=datetime.datetime(2026, 6, 1, 8, tzinfo=datetime.UTC)
    )


def test_the_summary_is_what_drfs_fields_give(people):
    every_kind_of_clue(people)
    request = APIRequestFactory().get("/")
    request.user = people["west_proc"]
    clues = list(with_related(Clue.objects.order_by("pk")))
    assert len(clues) == 5
    for serializer_class in (ClueSerializer, ClueDetailSerializer):
        for clue in clues:
            serializer = serializer_class(clue, context={"request": request})
            by_hand = serializer.data
            by_drf = drf.Serializer.to_representation(serializer_class(context={"request": request}), clue)
            assert by_hand == by_drf, (serializer_class.__name__, clue.code)
            assert list(by_hand) == list(by_drf)  # the same order of keys too


def test_a_listed_page_reads_the_points_as_numbers_and_answers_alike(people):
    every_kind_of_clue(people)
    client = client_for(people["city_proc"])
    listed = client.get("/api/v1/clues/", {"limit": 100}).json()["results"]
    assert listed
    for item in listed:
        detail = client.get(f"/api/v1/clues/{item['id']}/").json()
        assert {name: detail[name] for name in item} == item


def test_a_page_of_keys_counts_every_row_once(people):
    """paginate_keys counts in the statement that picks the page, and apart past the last row or under
    DISTINCT (a window counts the rows before DISTINCT removes any)."""
    from rest_framework.request import Request

    from config.api_input.pagination import BoundedLimitOffsetPagination

    every_kind_of_clue(people)
    total = Clue.objects.count()
    plain = Clue.objects.order_by("code")
    for queryset in (plain, Clue.objects.order_by("code").distinct()):
        for offset, expected in ((0, 2), (4, 1), (50, 0)):
            paginator = BoundedLimitOffsetPagination()
            request = Request(APIRequestFactory().get("/", {"limit": 2, "offset": offset}))
            keys = paginator.paginate_keys(queryset, request)
            assert paginator.count == total and len(keys) == expected
            assert keys == list(queryset.values_list("pk", flat=True)[offset : offset + 2])
