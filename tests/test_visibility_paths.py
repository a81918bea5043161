"""Every path that reaches clues applies Clue.objects.visible_to (DESIGN §5), proven path by path.

The URL patterns of the project are enumerated from config.urls' resolver, and the Celery tasks from
the Celery app: each must have a case below or be listed as not reaching clues, with the reason. A
new endpoint or task added without either fails test_every_path_is_accounted_for.

Each case shows that 甲区's liaison officer (the superuser, in the admin) meets none of the clues of
tests.clues.hidden: a confidential clue of another agency, one of its own river office, and a clue
of another district. Detail answers 404; lists, counts, exports, letters and notifications leave them
out, and a hidden clue answers exactly as a clue that does not exist.
"""

from __future__ import annotations

import datetime
import io
import json
import re
from collections.abc import Callable

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from clues.models import Clue, ClueEvent, Notification, Transfer
from config.celery import app as celery_app
from tests.clues.conftest import client_for, people  # noqa: F401 - people is a fixture
from tests.clues.hidden import HIDDEN, hidden_world

DAY = datetime.timedelta(days=1)


@pytest.fixture
def w(people, settings, tmp_path):  # noqa: F811 - the fixture imported above
    settings.MEDIA_ROOT = tmp_path / "media"
    return hidden_world(people)


# --- the patterns ----------------------------------------------------------------------------------


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _walk(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), (namespace + pattern.name) if pattern.name else None


def _admin_models() -> dict[str, str]:
    """Map each registered admin model's URL prefix (admin/<app>/<model>/) to its label."""
    return {f"admin/{m._meta.app_label}/{m._meta.model_name}/": m._meta.label_lower for m in admin.site._registry}


def path_keys() -> set[str]:
    """Return a key per URL pattern: `admin model <label>` for a model's admin pages, else its name
    (a format-suffix variant shares its pattern's name), else its route."""
    prefixes = _admin_models()
    keys = set()
    for route, name in _walk(get_resolver()):
        model = next((label for prefix, label in prefixes.items() if route.startswith(prefix)), None)
        keys.add(f"admin model {model}" if model else name or route)
    return keys


def task_keys() -> set[str]:
    return {name for name in celery_app.tasks if not name.startswith("celery.")}


NOT_REACHING_CLUES = {
    # Counts moved from one table to another (clues.tallies): nothing is shown to anyone.
    "clues.tasks.fold_figure_tallies": "the figures' deltas folded into their tallies",
    # The network and routing: layers and a point's recipient, no clue.
    "district-list": "districts",
    "district-detail": "a district",
    "reach-list": "reaches",
    "reach-detail": "a reach",
    "waterbody-list": "water bodies",
    "waterbody-detail": "a water body",
    "routing": "who would receive a clue at a point: reads no clue",
    "reach-board": "a reach's 公示牌: chiefs' names, levels, offices; the last patrol's date",
    "waterbody-board": "a water body's 公示牌: chiefs' names, levels, offices; the last patrol's date",
    "boards": "the 公示牌 of a district's reaches and water bodies",
    "route-list": "planned patrol routes",
    "route-detail": "a planned patrol route",
    "me": "the user's own agencies, roles and abilities",
    "categories": "the fixed list of categories",
    "tile": "network layers only (rivers.tiles.TILE_LAYERS)",
    # Patrols, plans and compliance: tracks, coverage and counts of patrols, no clue.
    "patrol-list": "patrols",
    "patrol-detail": "a patrol",
    "patrol-finish": "finishing a patrol",
    "patrol-gpx": "a patrol's track",
    "patrol-points": "a patrol's track points",
    "patrol-colleagues": "people of the user's agencies and of the partner side: no clue",
    "patrol-tracks": "tracks of patrols (Patrol.objects.visible_to, tests.patrols.test_app_api)",
    "focus": "the year's focus",
    "work-plans": "the year's work points",
    "compliance": "joint patrols per district",
    # Sign-in, the API's description, the pages' shells.
    "auth-token": "sign-in",
    "schema": "the OpenAPI description",
    "docs": "Swagger UI",
    "redoc": "ReDoc",
    "api-root": "links",
    "frontend:map": "the network map's page (data comes from the API)",
    "frontend:patrol": "the patrol app's page (data comes from the API)",
    "frontend:patrol-sw": "the patrol app's service worker script",
    "frontend:patrol-manifest": "the patrol app's web app manifest",
    "frontend:patrol-jsi18n": "the patrol app's translations",
    "frontend:clues": "the clue review map's page (data comes from the API and the tiles)",
    "frontend:liaison": "the liaison dashboard's page (data comes from the API)",
    "frontend:clue-new": "the desk's registration page: a form (routing, duplicates and saving go through the API)",
    "frontend:desk-jsi18n": "the desk pages' translations",
    "frontend:login": "sign-in",
    "frontend:logout": "sign-out",
    "frontend:healthz": "health",
    "admin:index": "model names",
    "admin:app_list": "model names",
    "admin:login": "sign-in",
    "admin:logout": "sign-out",
    "admin:password_change": "the user's password",
    "admin:password_change_done": "the user's password",
    "admin:jsi18n": "translations",
    "admin/(?P<url>.*)$": "the admin's catch-all: redirects or 404",
    # The admin's pages of models with no clue content.
    **{
        f"admin model {label}": "no clue content"
        for label in [
            "auth.user",
            "auth.group",
            "authtoken.tokenproxy",
            "axes.accessattempt",
            "axes.accesslog",
            "axes.accessfailurelog",
            "rivers.district",
            "rivers.agency",
            "rivers.membership",
            "rivers.river",
            "rivers.reach",
            "rivers.waterbody",
            "rivers.chiefassignment",
            "rivers.accesschange",
            "patrols.patrolroute",
            "patrols.patrol",
            "patrols.focusplan",
            "patrols.workplan",
            "clues.deadlinepolicy",
        ]
    },
    # Celery tasks that never read a clue.
    "patrols.tasks.compute_coverage": "a patrol's coverage of reaches",
    "patrols.tasks.process_photo": "a photo's display copy and thumbnail: nothing is shown to anyone",
    "patrols.tasks.requeue_stale_photos": "queues photos again",
    "patrols.tasks.requeue_stale_coverage": "queues coverage again",
}


# --- what absent means ----------------------------------------------------------------------------


def text_of(response) -> str:
    """The body as text: a PDF's extracted text, anything else decoded."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content.startswith(b"%PDF"):
        # A table cell may wrap a code over two lines: compare without any whitespace.
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
        return re.sub(r"\s+", "", text)
    return content.decode("utf-8", errors="replace")


def assert_absent(w, response) -> None:
    """Assert the response names no hidden clue: no code, no description (each carries HIDDEN)."""
    text = text_of(response)
    assert HIDDEN not in text, text[:2000]
    for clue in w["hidden"].values():
        assert clue.code not in text, (clue.code, text[:2000])


def codes_in(response) -> set[str]:
    """Every clue code anywhere in a JSON body ("code" and "clue_code" keys, and "clues" lists)."""
    found = set()

    def walk(node):  # noqa: ANN001, ANN202
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("code", "clue_code") and isinstance(value, str) and re.match(r"\d{6}-\d{4}-", value):
                    found.add(value)
                elif key == "clues" and isinstance(value, list) and all(isinstance(v, str) for v in value):
                    found.update(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(response.content))
    return found


def viewer(w):  # noqa: ANN201 - an APIClient
    return client_for(w["viewer"])


def assert_as_if_missing(w, make_request: Callable[[int], object]) -> None:
    """Assert each hidden clue's pk answers 404, as a pk that never existed does."""
    missing = make_request(10**9)
    assert missing.status_code == 404
    for clue in w["hidden"].values():
        response = make_request(clue.pk)
        assert response.status_code == 404, (clue.code, response.status_code)
        assert_absent(w, response)


def visible_codes(w) -> set[str]:
    return set(Clue.objects.visible_to(w["viewer"]).values_list("code", flat=True))


# --- the cases ------------------------------------------------------------------------------------


def case_clue_list(w):
    for url in ("/api/v1/clues/", "/api/v1/clues.json", "/api/v1/clues/?confidential=true"):
        response = viewer(w).get(url)
        assert response.status_code == 200
        assert_absent(w, response)
        assert codes_in(response) <= visible_codes(w)
    assert {w["visible"].code, w["sent"].code} <= codes_in(viewer(w).get("/api/v1/clues/"))


def case_clue_geojson(w):
    response = viewer(w).get("/api/v1/clues/geojson/")
    assert response.status_code == 200
    assert_absent(w, response)
    codes = {f["properties"]["code"] for f in response.json()["results"]["features"]}
    assert codes == visible_codes(w)


def case_clue_detail(w):
    assert_as_if_missing(w, lambda pk: viewer(w).get(f"/api/v1/clues/{pk}/"))
    assert_as_if_missing(w, lambda pk: viewer(w).get(f"/api/v1/clues/{pk}.json"))
    assert viewer(w).get(f"/api/v1/clues/{w['visible'].pk}/").status_code == 200


def case_clue_page(w):
    page = Client()
    page.force_login(w["viewer"])
    assert_as_if_missing(w, lambda pk: page.get(f"/clues/{pk}/"))
    response = page.get(f"/clues/{w['visible'].pk}/")
    assert response.status_code == 200
    assert w["visible"].code in text_of(response)


def case_clue_duplicates(w):
    assert_as_if_missing(w, lambda pk: viewer(w).get(f"/api/v1/clues/{pk}/duplicates/"))
    # secret_ro lies 50 m from `visible`, same category, same reach: a duplicate for those who see it.
    response = viewer(w).get(f"/api/v1/clues/{w['visible'].pk}/duplicates/")
    assert response.status_code == 200
    assert_absent(w, response)


def case_clue_events(w):
    assert_as_if_missing(w, lambda pk: viewer(w).get(f"/api/v1/clues/{pk}/events/"))


def case_clue_step(w):
    assert_as_if_missing(w, lambda pk: viewer(w).post(f"/api/v1/clues/{pk}/steps/accept/", {}, format="json"))
    # Merging into a hidden clue answers as merging into a code that does not exist.
    url = f"/api/v1/clues/{w['visible'].pk}/steps/merge/"
    nothing = viewer(w).post(url, {"into": "990001-1999-9999"}, format="json")
    hidden = viewer(w).post(url, {"into": w["hidden"]["secret_ro"].code}, format="json")
    assert hidden.status_code == nothing.status_code != 200
    assert (
        hidden.content.decode().replace(w["hidden"]["secret_ro"].code, "990001-1999-9999") == nothing.content.decode()
    )
    assert Clue.objects.get(pk=w["visible"].pk).status == "registered"


def case_clue_step_forms(w):
    assert_as_if_missing(w, lambda pk: viewer(w).get(f"/api/v1/clues/{pk}/steps/"))
    response = viewer(w).get(f"/api/v1/clues/{w['visible'].pk}/steps/")
    assert response.status_code == 200
    # The merge form offers no clue; the suggestions to answer are only those of visible clues.
    assert_absent(w, response)
    assert not set(response.json()["replies"]) & {s.pk for s in w["suggestions"]}


def case_clue_verification(w):
    assert_as_if_missing(w, lambda pk: viewer(w).get(f"/api/v1/clues/{pk}/verification/"))
    assert viewer(w).get(f"/api/v1/clues/{w['visible'].pk}/verification/").json()["intact"] is True


def case_clue_possible_duplicates(w):
    # secret_ro lies 50 m from `visible`, same category, same reach: its holder is told of it, the viewer not.
    # Both are months old; a clue registered now would duplicate them were they recent.
    Clue.objects.filter(pk__in=[w["visible"].pk, w["hidden"]["secret_ro"].pk]).update(created_at=timezone.now())
    lon, lat = w["visible"].geom.x, w["visible"].geom.y
    query = {"lon": lon, "lat": lat, "category": w["visible"].category}
    response = viewer(w).get("/api/v1/clues/possible-duplicates/", query)
    assert response.status_code == 200
    assert_absent(w, response)
    assert w["visible"].code in codes_in(response)
    holder = client_for(w["secret_ro_holder"]).get("/api/v1/clues/possible-duplicates/", query)
    assert w["hidden"]["secret_ro"].code in codes_in(holder)


def case_suggestion_reply(w):
    for suggestion in w["suggestions"]:
        response = viewer(w).post(f"/api/v1/suggestions/{suggestion.pk}/reply/", {"text": "回复"}, format="json")
        assert response.status_code == 404


def case_notification_list(w):
    # A notification the liaison officer got before the clue was hidden from them leaves with it.
    Notification.objects.create(
        user=w["viewer"], key="old", clue=w["hidden"]["secret_ro"], kind="first_answer_due_soon", message=HIDDEN
    )
    response = viewer(w).get("/api/v1/notifications/")
    assert response.status_code == 200
    assert_absent(w, response)


def case_notification_detail(w):
    mine = Notification.objects.create(
        user=w["viewer"], key="old", clue=w["hidden"]["secret_ro"], kind="first_answer_due_soon", message=HIDDEN
    )
    for notification in [mine, *w["notifications"]]:
        response = viewer(w).get(f"/api/v1/notifications/{notification.pk}/")
        assert response.status_code == 404
        assert_absent(w, response)


def case_notification_read(w):
    for notification in w["notifications"]:
        assert viewer(w).post(f"/api/v1/notifications/{notification.pk}/read/").status_code == 404
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def case_notification_read_all(w):
    Notification.objects.create(
        user=w["viewer"], key="old", clue=w["hidden"]["secret_ro"], kind="first_answer_due_soon", message=HIDDEN
    )
    response = viewer(w).post("/api/v1/notifications/read_all/")
    assert response.status_code == 200 and response.json() == {"marked": 0}  # none it may see


def case_todo(w):
    # The liaison office acts for 甲区's agencies: the hidden clues' first answers (secret_proc, sent to
    # 甲区's procuratorate) and the suggestion to 甲区's river office about it are due from those who see them.
    Notification.objects.create(
        user=w["viewer"], key="old", clue=w["hidden"]["secret_ro"], kind="first_answer_due_soon", message=HIDDEN
    )
    response = viewer(w).get("/api/v1/todo/")
    assert response.status_code == 200
    assert_absent(w, response)
    body = response.json()
    assert body["unread"] == 0
    clues = {item["clue"] for item in body["items"] if item["clue"]}
    assert clues == {w["sent"].pk}
    assert body["total"] == len(body["items"])
    holder = client_for(w["secret_proc_holder"]).get("/api/v1/todo/").json()
    assert w["hidden"]["secret_proc"].pk in {item["clue"] for item in holder["items"]}


def case_batch_list(w):
    response = viewer(w).get("/api/v1/batches/")
    assert response.status_code == 200
    assert_absent(w, response)
    assert [b["clues"] for b in response.json()["results"]] == [[w["sent"].code]]
    # Sending every unsent clue of the river office sends what the liaison officer sees, and says so.
    today = timezone.localdate()
    period = {"from": (today - 365 * DAY).isoformat(), "to": today.isoformat(), "agency": "990001-RCO"}
    sent = viewer(w).post("/api/v1/batches/", period, format="json")
    assert sent.status_code == 201, sent.content
    assert_absent(w, sent)
    assert Clue.objects.get(pk=w["hidden"]["secret_ro"].pk).status == "registered"
    # Naming it answers as naming a clue that does not exist.
    named = viewer(w).post("/api/v1/batches/", {**period, "clue_ids": [w["hidden"]["secret_ro"].pk]}, format="json")
    missing = viewer(w).post("/api/v1/batches/", {**period, "clue_ids": [10**9]}, format="json")
    assert named.status_code == missing.status_code == 400


def case_batch_detail(w):
    response = viewer(w).get(f"/api/v1/batches/{w['batch'].pk}/")
    assert response.status_code == 200
    assert_absent(w, response)
    assert response.json()["clues"] == [w["sent"].code]


def case_batch_preview(w):
    today = timezone.localdate()
    period = {"from": (today - 365 * DAY).isoformat(), "to": today.isoformat(), "agency": "990001-RCO"}
    response = viewer(w).get("/api/v1/batches/preview/", period)
    assert response.status_code == 200, response.content
    assert_absent(w, response)
    assert [c["code"] for g in response.json()["groups"] for c in g["clues"]] == [w["visible"].code]


def case_batch_letter(w):
    response = viewer(w).get(f"/api/v1/batches/{w['batch'].pk}/letter.pdf")
    assert response.status_code == 200
    text = text_of(response)
    assert_absent(w, response)
    assert w["sent"].code in text and "共计1条" in text
    # Those who may see both get the letter as it was sent.
    holder = client_for(w["secret_proc_holder"]).get(f"/api/v1/batches/{w['batch'].pk}/letter.pdf")
    assert w["hidden"]["secret_proc"].code in text_of(holder)


def case_figures(w):
    today = timezone.localdate()
    period = {"from": (today - 365 * DAY).isoformat(), "to": today.isoformat()}
    response = viewer(w).get("/api/v1/figures/", period)
    assert response.status_code == 200
    totals = response.json()["totals"]
    assert (totals["clues"], totals["confidential"]) == (len(visible_codes(w)), 0)
    for export in ("csv", "xlsx"):
        assert_absent(w, viewer(w).get("/api/v1/figures/", {**period, "format": export}))


def case_deadlines(w):
    from clues.overdue import deadlines_due

    # The hidden clues' suggestions are overdue today; the viewer's list has none of them.
    response = viewer(w).get("/api/v1/deadlines/")
    assert response.status_code == 200
    assert_absent(w, response)
    assert {item["clue"]["code"] for item in response.json()["items"]} <= visible_codes(w)
    # 200 days on the half-yearly transfer is overdue, dated and counted from the clues the viewer
    # sees: `visible` alone, not the older confidential clue of the same office.
    later = deadlines_due(user=w["viewer"], today=timezone.localdate() + 200 * DAY)
    assert {item.clue.code for item in later.items} <= visible_codes(w)
    [periodic] = [item for item in later.items if item.kind == "transfer_interval"]
    assert (periodic.clue.code, periodic.clues_waiting, periodic.state) == (w["visible"].code, 1, "overdue")


def case_meeting_pack(w):
    today = timezone.localdate()
    period = {"from": (today - 365 * DAY).isoformat(), "to": today.isoformat()}
    pdf = viewer(w).get("/api/v1/meeting-pack/", period)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert_absent(w, pdf)
    assert f"线索总数{len(visible_codes(w))}" in text_of(pdf)
    xlsx = viewer(w).get("/api/v1/meeting-pack/", {**period, "format": "xlsx"})
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    cells = " ".join(str(value) for sheet in book for row in sheet.iter_rows(values_only=True) for value in row)
    assert HIDDEN not in cells
    for clue in w["hidden"].values():
        assert clue.code not in cells


def case_finding_list(w):
    response = viewer(w).get("/api/v1/findings/")
    assert response.status_code == 200
    assert_absent(w, response)


def _finding_404(w, url: str, method: str = "get"):
    response = getattr(viewer(w), method)(url)
    assert response.status_code == 404
    assert_absent(w, response)


def case_finding_detail(w):
    _finding_404(w, f"/api/v1/findings/{w['finding'].pk}/")


def case_finding_clue(w):
    _finding_404(w, f"/api/v1/findings/{w['finding'].pk}/clue/", "post")


def case_finding_routing(w):
    _finding_404(w, f"/api/v1/findings/{w['finding'].pk}/routing/")


def case_finding_photos(w):
    _finding_404(w, f"/api/v1/findings/{w['finding'].pk}/photos/")


def case_photo(variant: str):
    def case(w):
        _finding_404(w, f"/api/v1/photos/{w['photo'].pk}/{variant}/")

    return case


# The admin: the superuser manages accounts, not clue content (DESIGN §5).
def superuser_client() -> Client:
    root = get_user_model().objects.create_superuser("root", "root@example.org", "root-pass-2026")
    client = Client()
    client.force_login(root)
    return client


def case_admin_model(label: str, rows: Callable):
    def case(w):
        client = superuser_client()
        app_label, model_name = label.split(".")
        listing = client.get(f"/admin/{app_label}/{model_name}/")
        assert listing.status_code == 200
        assert_absent(w, listing)
        objects = rows(w)
        assert objects, "the world must hold rows of this model about hidden clues"
        for obj in objects:
            for page in ("change/", "history/", "delete/", ""):
                response = client.get(f"/admin/{app_label}/{model_name}/{obj.pk}/{page}", follow=True)
                assert_absent(w, response)
            # The admin answers a missing object by going back to its index with a message.
            assert client.get(f"/admin/{app_label}/{model_name}/{obj.pk}/change/").status_code == 302

    return case


def _hidden_clues(w):
    return list(w["hidden"].values())


def case_admin_autocomplete(w):
    client = superuser_client()
    for model_name in ("clue", "transfer", "suggestion", "notification", "clueevent"):
        query = {"app_label": "clues", "model_name": model_name, "field_name": "clue", "term": ""}
        assert_absent(w, client.get("/admin/autocomplete/", query))


def case_admin_view_on_site(w):
    client = superuser_client()
    content_type = ContentType.objects.get_for_model(Clue)
    for clue in _hidden_clues(w):
        response = client.get(f"/admin/r/{content_type.pk}/{clue.pk}/")
        assert response.status_code == 404  # a clue has no page outside the API


def case_sweep(w):
    from clues.tasks import sweep_deadlines

    mail.outbox.clear()
    later = timezone.localdate() + 200 * DAY  # every deadline overdue, the half-yearly transfer too
    sweep_deadlines(today=later.isoformat())
    told = Notification.objects.filter(user=w["viewer"])
    assert told.exists()  # the liaison office is told of what it may see
    assert not told.filter(clue__in=_hidden_clues(w)).exists()
    for notification in told:
        assert HIDDEN not in notification.message
        for clue in _hidden_clues(w):
            assert clue.code not in notification.message
    periodic = told.get(kind="transfer_interval_overdue")
    assert periodic.clue_id == w["visible"].pk and " 1 " in periodic.message
    letters = [m for m in mail.outbox if w["viewer"].email in m.to]
    assert letters
    for message in letters:
        for clue in _hidden_clues(w):
            assert clue.code not in message.subject + message.body


def _clue_tile_case(layer: str):
    """The review map's clue tiles (clues.tiles): counted, the clues the viewer sees and no other; at the
    street zoom, where each clue is a marker with its id and code, the hidden ones are in no tile; in
    the heat's tiles of zoom 22 (10 m wide, the clues lie 50 m apart or more) they count nothing."""

    def case(w):
        from clues.tiles import CLUSTER_MAX_ZOOM
        from rivers.tiles import MAX_ZOOM
        from tests.clues.mvt import tile_decode, tile_of

        def features(z: int, x: int, y: int, **params) -> list[dict]:
            response = viewer(w).get(f"/tiles/{layer}/{z}/{x}/{y}.pbf", params)
            assert response.status_code == 200
            assert_absent(w, response)
            return tile_decode(response.content).get(layer, [])

        for params in ({}, {"district": "990001"}, {"status": "registered"}):
            counted = sum(f["count"] for f in features(0, 0, 0, **params) if f["own"])
            seen = Clue.objects.visible_to(w["viewer"])
            if params:
                seen = seen.filter(**({"district__code": "990001"} if "district" in params else params))
            assert counted == seen.count(), params
        z = CLUSTER_MAX_ZOOM if layer == "clues" else MAX_ZOOM
        for clue in [w["visible"], *w["hidden"].values()]:
            found = features(z, *tile_of(clue.geom.x, clue.geom.y, z))
            if layer == "clues":
                assert (clue.pk in {f.get("id") for f in found}) == (clue == w["visible"]), clue.code
            else:
                assert sum(f["count"] for f in found if f["own"]) == (clue == w["visible"]), clue.code

    return case


CASES: dict[str, Callable] = {
    "clue-tile": _clue_tile_case("clues"),
    "clue-heat-tile": _clue_tile_case("clue-heat"),
    "clue-list": case_clue_list,
    "clue-geojson": case_clue_geojson,
    "clue-detail": case_clue_detail,
    "clue-duplicates": case_clue_duplicates,
    "frontend:clue": case_clue_page,
    "clue-events": case_clue_events,
    "clue-step": case_clue_step,
    "clue-step-forms": case_clue_step_forms,
    "clue-verification": case_clue_verification,
    "clue-possible-duplicates": case_clue_possible_duplicates,
    "suggestion-reply": case_suggestion_reply,
    "notification-list": case_notification_list,
    "notification-detail": case_notification_detail,
    "notification-read": case_notification_read,
    "notification-read-all": case_notification_read_all,
    "todo": case_todo,
    "batch-list": case_batch_list,
    "batch-detail": case_batch_detail,
    "batch-preview": case_batch_preview,
    "batch-letter": case_batch_letter,
    "figures": case_figures,
    "deadlines": case_deadlines,
    "meeting-pack": case_meeting_pack,
    "finding-list": case_finding_list,
    "finding-detail": case_finding_detail,
    "finding-clue": case_finding_clue,
    "finding-routing": case_finding_routing,
    "finding-photos": case_finding_photos,
    "photo-display": case_photo("display"),
    "photo-thumbnail": case_photo("thumbnail"),
    "photo-original": case_photo("original"),
    "admin model clues.clue": case_admin_model("clues.clue", _hidden_clues),
    "admin model clues.transfer": case_admin_model(
        "clues.transfer", lambda w: list(Transfer.objects.filter(clue__in=_hidden_clues(w)))
    ),
    "admin model clues.suggestion": case_admin_model("clues.suggestion", lambda w: w["suggestions"]),
    "admin model clues.notification": case_admin_model("clues.notification", lambda w: w["notifications"]),
    "admin model clues.clueevent": case_admin_model(
        "clues.clueevent", lambda w: list(ClueEvent.objects.filter(clue__in=_hidden_clues(w)))
    ),
    "admin model patrols.finding": case_admin_model("patrols.finding", lambda w: [w["finding"]]),
    "admin:autocomplete": case_admin_autocomplete,
    "admin:view_on_site": case_admin_view_on_site,
    "clues.tasks.sweep_deadlines": case_sweep,
}


def test_every_path_is_accounted_for():
    keys = path_keys() | task_keys()
    unaccounted = sorted(keys - CASES.keys() - NOT_REACHING_CLUES.keys())
    assert not unaccounted, f"add a case to CASES, or say why it reaches no clue in NOT_REACHING_CLUES: {unaccounted}"
    stale = sorted((CASES.keys() | NOT_REACHING_CLUES.keys()) - keys)
    assert not stale, f"no such URL pattern or task any more: {stale}"
    assert not CASES.keys() & NOT_REACHING_CLUES.keys()


@pytest.mark.parametrize("key", list(CASES))
def test_no_path_shows_a_hidden_clue(w, people, key):  # noqa: F811 - the fixture imported above
    # Those who may see the hidden clues, for the cases that show the rule is not "hide everything".
    w["secret_ro_holder"] = people["west_ro"]
    w["secret_proc_holder"] = people["west_proc"]
    for clue in w["hidden"].values():
        assert not Clue.objects.visible_to(w["viewer"]).filter(pk=clue.pk).exists()
    CASES[key](w)
