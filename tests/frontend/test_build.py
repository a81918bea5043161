"""The patrol app's build (frontend/build.mjs via scripts/frontend.sh) and its shell pages, without a browser."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from frontend.patrol import BUILD_DIR
from rivers.members import member_add
from rivers.models import Agency

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def walk_order(root: Path) -> list[Path]:
    """Files under root in build.mjs's order: each directory's names sorted, directories entered in place."""
    files = []
    for child in sorted(root.iterdir(), key=lambda p: p.name):
        files += walk_order(child) if child.is_dir() else [child]
    return files


def test_the_built_bundle_is_fresh():
    build = json.loads((BUILD_DIR / "build.json").read_text())
    inputs = walk_order(FRONTEND / "src") + [FRONTEND / "build.mjs", FRONTEND / "package-lock.json"]
    inputs += [p for p in walk_order(FRONTEND / "locale") if p.suffix == ".po"]
    digest = hashlib.sha256()
    for path in inputs:
        digest.update(path.relative_to(FRONTEND).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    assert build["sources"] == digest.hexdigest(), "frontend/ changed since the last build: run scripts/frontend.sh"
    for name in build["assets"]:
        assert (BUILD_DIR / name).is_file()
    assert (FRONTEND / "locale" / "en" / "LC_MESSAGES" / "djangojs.mo").is_file()


def test_nothing_third_party_is_committed_and_the_lock_pins_every_package():
    tracked = subprocess.run(["git", "ls-files", "frontend"], cwd=FRONTEND.parent, capture_output=True, text=True)
    files = tracked.stdout.split()
    assert not [f for f in files if "node_modules" in f or f.startswith("frontend/static/frontend/build/")]
    lock = json.loads((FRONTEND / "package-lock.json").read_text())
    packages = {path: meta for path, meta in lock["packages"].items() if path}
    assert {"node_modules/leaflet", "node_modules/idb", "node_modules/esbuild"} <= packages.keys()
    assert all(meta.get("integrity", "").startswith("sha512-") for meta in packages.values())


def test_every_string_of_the_app_has_an_english_translation():
    strings = set()
    for path in (FRONTEND / "src").rglob("*.js"):
        strings |= {m.group(2) for m in re.finditer(r'\b(t|tn)\(\s*"((?:[^"\\]|\\.)*)"', path.read_text())}
    catalog = (FRONTEND / "locale" / "en" / "LC_MESSAGES" / "djangojs.po").read_text()
    translated = set(re.findall(r'^msgid "(.+)"$', catalog, flags=re.M))
    assert strings and not strings - translated, sorted(strings - translated)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js builds the app; scripts/bootstrap.sh installs it")
def test_the_queue_rules_pass_their_node_tests():
    """The offline queue's plain rules (backoff, batches, distance) under node's own test runner."""
    result = subprocess.run(["node", "--test", "src/"], cwd=FRONTEND, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^# pass [1-9]", result.stdout, flags=re.M)
    assert re.search(r"^# fail 0$", result.stdout, flags=re.M)


@pytest.fixture
def signed_in(client, db):
    from gis_data.bundle import bundle_load

    bundle_load(Path(__file__).resolve().parents[2] / "gis_data" / "samples" / "qijiang")
    membership, _ = member_add(username="qj_proc", agency=Agency.objects.get(code="500110-PROC"), role="prosecutor")
    client.force_login(membership.user)
    return client


def test_the_app_needs_sign_in_and_its_worker_has_the_app_as_scope(client, db):
    response = client.get(reverse("frontend:patrol"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    worker = client.get(reverse("frontend:patrol-sw"))
    assert worker.status_code == 200
    assert worker["Content-Type"].startswith("text/javascript")
    assert worker["Service-Worker-Allowed"] == "/patrol/"
    assert "no-cache" in worker["Cache-Control"]
    body = b"".join(worker.streaming_content).decode()
    version = json.loads((BUILD_DIR / "build.json").read_text())["version"]
    assert version in body  # the worker's caches are named by the build


def test_the_shell_names_its_versioned_files_and_the_manifest(signed_in):
    response = signed_in.get(reverse("frontend:patrol"))
    assert response.status_code == 200
    html = response.content.decode()
    version = json.loads((BUILD_DIR / "build.json").read_text())["version"]
    assert f"/static/frontend/build/patrol.js?v={version}" in html
    assert 'rel="manifest"' in html and 'lang="zh-hans"' in html
    manifest = signed_in.get(reverse("frontend:patrol-manifest")).json()
    assert manifest["scope"] == "/patrol/" and manifest["start_url"] == "/patrol/"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        png = (BUILD_DIR / icon["src"].split("/build/")[1].split("?")[0]).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_lang_switches_the_app_and_its_catalog_to_english(signed_in):
    response = signed_in.get(reverse("frontend:patrol") + "?lang=en")
    assert response.status_code == 302
    html = signed_in.get(reverse("frontend:patrol")).content.decode()
    assert 'lang="en"' in html and "Skip to the controls" in html
    catalog = signed_in.get(reverse("frontend:patrol-jsi18n")).content.decode()
    assert "Start a patrol" in catalog
    signed_in.get(reverse("frontend:patrol") + "?lang=zh-hans")
    catalog = signed_in.get(reverse("frontend:patrol-jsi18n")).content.decode()
    assert "Start a patrol" not in catalog


@pytest.mark.parametrize("page", ["clues", "liaison"])
def test_the_desk_pages_need_sign_in_and_name_their_own_bundle(client, signed_in, page):
    assert client.get(reverse(f"frontend:{page}")).status_code == 200  # `signed_in` is this client
    client.logout()
    assert client.get(reverse(f"frontend:{page}")).status_code == 302
    client.force_login(get_user_model().objects.get(username="qj_proc"))
    html = client.get(reverse(f"frontend:{page}")).content.decode()
    desk = json.loads((BUILD_DIR / "build.json").read_text())["desk"]
    assert f"/static/frontend/build/desk/{page}.js?v={desk['version']}" in html
    assert f"{page}.js" in desk["assets"] and f"{page}.css" in desk["assets"]
    patrol_assets = json.loads((BUILD_DIR / "build.json").read_text())["assets"]
    assert not [name for name in patrol_assets if name.startswith(("clue", "liaison"))]  # not in the phone's cache
