"""Every admin page opens (lists, and the add page where adding is allowed) on the Qijiang demo."""

from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import DatabaseError, transaction
from django.test import Client, RequestFactory
from django.urls import reverse

from clues.models import ClueEvent, Transfer
from gis_data.bundle import bundle_load
from rivers.access import AccessChangeRefused, access_change_record, guarded_values
from rivers.models import AccessChange, Agency, Membership
from tests.clues.conftest import people  # noqa: F401 - a fixture
from tests.clues.hidden import HIDDEN, hidden_world

QIJIANG = Path(__file__).resolve().parents[1] / "gis_data" / "samples" / "qijiang"


@pytest.fixture
def root(db):
    bundle_load(QIJIANG)
    return get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-123")


def test_every_admin_page_opens(root):
    superuser_client = Client()
    superuser_client.force_login(root)
    request = RequestFactory().get("/admin/")
    request.user = root
    opened = 0
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        response = superuser_client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code == 200, info
        # What the admin lists: the clue pages list only the clues the user may see (DESIGN §5).
        first = model_admin.get_queryset(request).first()
        if first is not None:
            page = superuser_client.get(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
            assert page.status_code == 200, info
        if model_admin.has_add_permission(request):
            assert superuser_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200, info
        opened += 1
    assert opened >= 15


# --- Who sees what is changed only by a system administrator, and recorded (DESIGN §5) ------------


@pytest.fixture
def gis_admin(world, member):
    client = Client()
    client.force_login(member("gis", "990001-RCO", "gis_admin"))
    return client


def agency_form(agency: Agency, **changes) -> dict:
    return {"code": agency.code, "name": agency.name, "kind": agency.kind, "district": agency.district_id, **changes}


def test_a_gis_admin_cannot_make_their_agency_the_municipal_procuratorate(gis_admin, world, member):
    office = Agency.objects.get(code="990001-RCO")
    page = gis_admin.get(f"/admin/rivers/agency/{office.pk}/change/")
    assert page.status_code == 200
    assert b'name="kind"' not in page.content and b'name="district"' not in page.content  # read-only
    # The attack of issue 7: kind → procuratorate, district → the city. The name is theirs to fix.
    form = agency_form(office, name="甲区河长办", kind="procuratorate", district=world["city"].pk)
    assert gis_admin.post(f"/admin/rivers/agency/{office.pk}/change/", form).status_code == 302
    office.refresh_from_db()
    assert (office.name, office.kind, office.district_id) == ("甲区河长办", "river_office", world["west"].pk)
    gis = get_user_model().objects.get(username="gis")
    assert not Agency.objects.municipal_procuratorates_of(gis).exists()
    assert not AccessChange.objects.filter(actor__isnull=False).exists()  # a rename changes nobody's view
    # Nor a district's level, nor agencies, memberships, accounts or rights.
    west = world["west"]
    district_page = gis_admin.get(f"/admin/rivers/district/{west.pk}/change/")
    assert b'name="level"' not in district_page.content and b'name="parent"' not in district_page.content
    for url in [
        "/admin/rivers/agency/add/",
        f"/admin/rivers/agency/{office.pk}/delete/",
        "/admin/rivers/membership/add/",
        "/admin/auth/user/add/",
        f"/admin/auth/user/{gis.pk}/change/",
        "/admin/auth/group/",
        "/admin/rivers/accesschange/",
    ]:
        assert gis_admin.get(url).status_code == 403, url
    membership = {"user": gis.pk, "agency": Agency.objects.get(code="990000-PROC").pk, "role": "prosecutor"}
    assert gis_admin.post("/admin/rivers/membership/add/", membership).status_code == 403
    assert not Agency.objects.municipal_procuratorates_of(gis).exists()


def test_the_record_refuses_a_change_the_form_did_not_stop(world, member):
    gis = member("gis", "990001-RCO", "gis_admin")
    office = Agency.objects.get(code="990001-RCO")
    before = guarded_values(office)
    with pytest.raises(AccessChangeRefused), transaction.atomic():
        office.kind = "procuratorate"
        office.save()
        access_change_record(actor=gis, obj=office, action="change", before=before)
    office.refresh_from_db()
    assert office.kind == "river_office"


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-123")


def test_a_system_administrators_change_is_recorded_and_shown_read_only(world, superuser):
    client = Client()
    client.force_login(superuser)
    office = Agency.objects.get(code="990001-RCO")
    form = agency_form(office, kind="procuratorate", district=world["city"].pk)
    assert client.post(f"/admin/rivers/agency/{office.pk}/change/", form).status_code == 302
    change = AccessChange.objects.get(actor=superuser)
    assert (change.actor, change.action, change.subject, change.object_id) == (
        superuser,
        "change",
        "rivers.agency",
        str(office.pk),
    )
    assert change.before == {"kind": "river_office", "district": {"id": world["west"].pk, "name": str(world["west"])}}
    assert change.after == {"kind": "procuratorate", "district": {"id": world["city"].pk, "name": str(world["city"])}}
    assert AccessChange.objects.filter(actor=superuser, after__kind="procuratorate").count() == 1
    listing = client.get("/admin/rivers/accesschange/")
    assert listing.status_code == 200 and office.name in listing.content.decode()
    page = client.get(f"/admin/rivers/accesschange/{change.pk}/change/")
    assert page.status_code == 200 and b'name="before"' not in page.content  # read-only
    assert client.get("/admin/rivers/accesschange/add/").status_code == 403
    # The database keeps the record as written.
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessChange.objects.filter(pk=change.pk).update(after={})
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessChange.objects.filter(pk=change.pk).delete()


def test_a_holder_of_the_manage_access_permission_is_a_system_administrator(world, member):
    keeper = get_user_model().objects.create_user("keeper", is_staff=True)
    keeper.user_permissions.add(
        *Permission.objects.filter(codename__in=["manage_access", "change_agency", "view_agency", "add_membership"])
    )
    client = Client()
    client.force_login(keeper)
    office = Agency.objects.get(code="990002-RCO")
    assert (
        client.post(f"/admin/rivers/agency/{office.pk}/change/", agency_form(office, kind="police")).status_code == 302
    )
    assert AccessChange.objects.get(actor=keeper, subject="rivers.agency").after == {"kind": "police"}
    user = member("newcomer", "990001-RCO", "patrol")
    membership = {"user": user.pk, "agency": office.pk, "role": "river_office"}
    assert client.post("/admin/rivers/membership/add/", membership).status_code == 302
    added = AccessChange.objects.get(actor=keeper, subject="rivers.membership")
    assert added.action == "add" and added.actor == keeper
    assert added.after["role"] == "river_office" and added.after["agency"]["id"] == office.pk


def test_a_users_rights_and_deactivation_are_recorded(world, member, superuser):
    client = Client()
    client.force_login(superuser)
    user = member("leaver", "990001-RCO", "river_office")
    page = client.get(f"/admin/auth/user/{user.pk}/change/")
    assert page.status_code == 200
    form = {
        "username": user.username,
        "is_staff": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    response = client.post(f"/admin/auth/user/{user.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    change = AccessChange.objects.get(actor=superuser, subject="auth.user")
    assert change.before == {"is_active": True, "is_staff": False} and change.after == {
        "is_active": False,
        "is_staff": True,
    }


# --- The admin's clue pages apply visible_to to everyone, superusers included (DESIGN §5) ---------


CLUE_PAGES = [
    "clues/clue",
    "clues/transfer",
    "clues/suggestion",
    "clues/notification",
    "clues/clueevent",
    "patrols/finding",
]


@pytest.fixture
def hidden(people, settings, tmp_path):  # noqa: F811 - the fixture imported above
    settings.MEDIA_ROOT = tmp_path / "media"
    return hidden_world(people)


def admin_rows(hidden: dict) -> dict[str, list]:
    clues = list(hidden["hidden"].values())
    return {
        "clues/clue": clues,
        "clues/transfer": list(Transfer.objects.filter(clue__in=clues)),
        "clues/suggestion": hidden["suggestions"],
        "clues/notification": hidden["notifications"],
        "clues/clueevent": list(ClueEvent.objects.filter(clue__in=clues)),
        "patrols/finding": [hidden["finding"]],
    }


@pytest.mark.parametrize("page", CLUE_PAGES)
def test_a_superuser_sees_no_clue_content_in_the_admin(hidden, superuser, page):
    client = Client()
    client.force_login(superuser)
    listing = client.get(f"/admin/{page}/")
    assert listing.status_code == 200
    text = listing.content.decode()
    assert HIDDEN not in text
    for clue in hidden["hidden"].values():
        assert clue.code not in text
    rows = admin_rows(hidden)[page]
    assert rows
    for row in rows:
        assert client.get(f"/admin/{page}/{row.pk}/change/").status_code == 302  # "does not exist"


@pytest.mark.parametrize("page", CLUE_PAGES)
def test_a_superuser_who_works_in_the_holding_agency_sees_its_clues_in_the_admin(hidden, superuser, page):
    Membership.objects.create(user=superuser, agency=Agency.objects.get(code="990001-PROC"), role="prosecutor")
    client = Client()
    client.force_login(superuser)
    secret = hidden["hidden"]["secret_proc"]
    rows = [row for row in admin_rows(hidden)[page] if getattr(row, "clue_id", getattr(row, "pk", None)) == secret.pk]
    if page == "patrols/finding":
        rows = [hidden["finding"]]
    for row in rows:
        assert client.get(f"/admin/{page}/{row.pk}/change/").status_code == 200, page
    assert secret.code in client.get("/admin/clues/clue/").content.decode()


def test_the_loaders_record_what_they_change_too(world):
    from rivers.network import agency_upsert, district_parent_set

    office = Agency.objects.get(code="990001-RCO")
    agency_upsert(code=office.code, name=office.name, kind="procuratorate", district=world["city"])
    change = AccessChange.objects.filter(subject="rivers.agency", object_id=str(office.pk)).latest("pk")
    assert (change.actor, change.action) == (None, "change")
    assert change.before["kind"] == "river_office" and change.after["kind"] == "procuratorate"
    district_parent_set(world["west"], None)
    change = AccessChange.objects.filter(subject="rivers.district").latest("pk")
    assert change.before == {"parent": {"id": world["city"].pk, "name": str(world["city"])}}
    assert change.after == {"parent": None}
    count = AccessChange.objects.count()
    agency_upsert(code=office.code, name="新名称", kind="procuratorate", district=world["city"])
    assert AccessChange.objects.count() == count  # a new name changes nobody's view


def test_add_member_records_the_membership(world, member):
    user = member("newcomer", "990002-PROC", "prosecutor")
    change = AccessChange.objects.get(subject="rivers.membership")
    assert (change.actor, change.action) == (None, "add")
    assert change.after["user"] == {"id": user.pk, "name": "newcomer"} and change.after["role"] == "prosecutor"
    member("newcomer", "990002-PROC", "prosecutor")  # again: nothing new
    assert AccessChange.objects.filter(subject="rivers.membership").count() == 1
