"""Routing and the cross-district rule on the Qijiang demo (real district boundaries, drawn rivers).

Test points are vertices of the reaches, listed in gis_data/samples/qijiang/README.md.
"""

from pathlib import Path

import pytest
from django.contrib.gis.geos import Point

from gis_data.bundle import bundle_load
from rivers.models import ChiefAssignment, Reach
from rivers.routing import route

QIJIANG = Path(__file__).resolve().parents[2] / "gis_data" / "samples" / "qijiang"


@pytest.fixture
def qijiang(db):
    bundle_load(QIJIANG)


@pytest.mark.parametrize(
    ("lon", "lat", "reason", "receiver", "reach", "copies"),
    [
        # 綦江干流三江—广兴段 runs from 綦江区 into 江津区.
        (106.597499, 29.093546, "cross_district", "500000-PROC", "R500110-006", ["500110-PROC", "500116-PROC"]),
        (106.561199, 29.108674, "cross_district", "500000-PROC", "R500110-006", ["500110-PROC", "500116-PROC"]),
        # 溱溪河 forms the 綦江区/南川区 border (界河).
        (107.008213, 29.011643, "cross_district", "500000-PROC", "R500110-019", ["500110-PROC", "500119-PROC"]),
        # 通惠河 lies wholly inside 綦江区.
        (106.717455, 28.998568, "district", "500110-PROC", "R500110-009", []),
        # 马桑溪 ends on the 綦江区/巴南区 border without crossing it.
        (106.72816, 29.140897, "district", "500110-PROC", "R500110-018", []),
        # Far from every reach, inside 綦江区.
        (106.6, 28.82, "district", "500110-PROC", None, []),
        # 渝中区: inside 重庆市 but outside the four districts of the bundle.
        (106.57, 29.56, "outside_districts", "500000-PROC", None, []),
    ],
)
def test_demo_routing(qijiang, lon, lat, reason, receiver, reach, copies):
    routing = route(Point(lon, lat, srid=4326))
    assert routing.reason == reason
    assert routing.procuratorate.code == receiver
    assert (routing.reach.code if routing.reach else None) == reach
    assert [agency.code for agency in routing.copies] == copies


def test_demo_cross_district_reaches(qijiang):
    assert set(Reach.objects.filter(is_cross_district=True).values_list("code", flat=True)) == {
        "R500110-006",
        "R500110-019",
    }
    # The end-touching reach lies only in 綦江区.
    assert list(Reach.objects.get(code="R500110-018").districts.values_list("code", flat=True)) == ["500110"]


def test_demo_chief_history_is_kept(qijiang):
    history = ChiefAssignment.objects.filter(reach__code="R500110-009", role="chief").order_by("start_date")
    assert [(a.person_name, a.end_date is None) for a in history] == [("赵立新", False), ("李国栋", True)]
