"""One locked dependency set (issue 7 §1): what `make run` starts is what the tests proved.

requirements/base.txt pins every package of the run environment, transitive ones included, with
hashes; requirements/test.txt is the same pins plus the test tools. `.venv` (make run) is synced to
base.txt exactly, `.venv-test` (make test) to test.txt.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock(name: str) -> dict[str, tuple[str, frozenset[str]]]:
    """Return {package: (version, hashes)} of requirements/<name>.txt, checking its shape on the way."""
    pins: dict[str, tuple[str, frozenset[str]]] = {}
    current = None
    for line in (REQUIREMENTS / f"{name}.txt").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line.startswith(" "):
            match = PIN.match(line)
            assert match, f"{name}.txt: not an exact pin with hashes: {line!r}"
            current = canonical(match[1])
            pins[current] = (match[2], frozenset())
        else:
            assert current is not None
            hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", stripped)
            version, known = pins[current]
            pins[current] = (version, known | set(hashes))
    for package, (_, hashes) in pins.items():
        assert hashes, f"{name}.txt: {package} has no hash"
    return pins


def asked_for(name: str) -> set[str]:
    """Return the packages requirements/<name>.in names itself (not through -r or -c)."""
    names = set()
    for line in (REQUIREMENTS / f"{name}.in").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(canonical(re.split(r"[=<>!~\[ ;]", line)[0]))
    return names


def test_every_lock_pins_every_package_with_hashes_and_covers_what_is_asked_for():
    for name in ("base", "test", "tools", "uv"):
        pins = lock(name)
        missing = asked_for(name) - set(pins)
        assert not missing, f"{name}.txt lacks {missing}: run `make lock`"


def test_the_test_environment_is_the_run_environment_plus_test_tools():
    base, test = lock("base"), lock("test")
    assert {package: pin for package, pin in test.items() if package in base} == base
    extra = set(test) - set(base)
    assert asked_for("test") <= extra | set(base)
    # Nothing the product imports at run time may come from the test tools alone.
    assert "packaging" in base, "kombu's Redis transport imports packaging (issue 7 §1)"


def synced_packages(venv: Path) -> dict[str, str]:
    uv = REPO / ".local" / "uv" / "bin" / "uv"
    result = subprocess.run(
        [str(uv), "pip", "freeze", "--python", str(venv / "bin" / "python")],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return {canonical(name): version for name, _, version in (line.partition("==") for line in result.stdout.split())}


@pytest.mark.parametrize(("venv", "name"), [(".venv", "base"), (".venv-test", "test")])
def test_each_environment_holds_exactly_its_lock(venv, name):
    if not (REPO / venv / "bin" / "python").exists():
        pytest.fail(f"{venv} is missing: scripts/bootstrap.sh test builds it")
    assert synced_packages(REPO / venv) == {package: version for package, (version, _) in lock(name).items()}


def test_the_run_environment_imports_what_the_worker_needs():
    """The worker and beat died at start on a fresh machine: kombu's Redis transport lacked `packaging`."""
    script = "import kombu.transport.redis, celery.bin.celery, gunicorn, axes, django; print('ok')"
    result = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c", script], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
