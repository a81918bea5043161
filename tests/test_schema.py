"""The OpenAPI schema (/api/v1/schema/) describes every endpoint without guesswork."""

from django.core.management import call_command


def test_schema_generates_and_validates_without_warnings(tmp_path, db):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(target), "--validate", "--fail-on-warn")
    text = target.read_text(encoding="utf-8")
    for path in ("/api/v1/clues/", "/api/v1/routing/", "/api/v1/patrols/", "/api/v1/findings/", "/api/v1/figures/"):
        assert f"{path}:" in text
