"""Loading one layer of a GIS file (Shapefile, GeoPackage, KML, GeoJSON, GPX) into the network.

The file's attribute names are mapped onto ours (`--map code=XZQDM`), constants fill what the
file lacks (`--set level=district`), and the features then go through the bundle's loaders, so a
layer and a bundle obey the same rules: upserts by `code`, the first bad feature stops the load
with the file, the feature's index and code and the reason, and nothing of that load is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from rivers.crossing import network_recompute_around, reaches_recompute, water_bodies_recompute

from .bundle import (
    BundleError,
    BundleReport,
    Loaded,
    _load_districts,
    _load_reaches,
    _load_routes,
    _load_water_bodies,
    agencies_derive_staged,
)
from .coords import Srid
from .ogr import read_ogr
from .readers import RawFeature, ReadError


def _districts_after(loaded: Loaded, codes: list[str]) -> None:
    # A district new to the system gets the agencies routing needs (DESIGN §6: <code>-PROC, ...);
    # one that already has agencies keeps exactly those.
    agencies_derive_staged(every=False)
    network_recompute_around(loaded.changed_ids, also=loaded.near_before)


def _reaches_after(loaded: Loaded, codes: list[str]) -> None:
    reaches_recompute(loaded.changed_ids)


def _water_bodies_after(loaded: Loaded, codes: list[str]) -> None:
    water_bodies_recompute(loaded.changed_ids)


def _routes_after(_: Any, codes: list[str]) -> None:
    """Routes have no derived fields."""


@dataclass(frozen=True)
class Target:
    fields: tuple[str, ...]  # our names a file's attributes can be mapped to
    required: tuple[str, ...]  # those every feature must have, from an attribute or a constant
    load: Callable[[Path, BundleReport, list[RawFeature]], Any]
    after: Callable[[Any, list[str]], None]  # recompute what depends on the loaded items


TARGETS = {
    "districts": Target(("code", "name", "level", "parent"), ("code", "name"), _load_districts, _districts_after),
    "reaches": Target(
        ("code", "name", "river", "river_code", "level"),
        ("code", "name", "river", "level"),
        _load_reaches,
        _reaches_after,
    ),
    "waterbodies": Target(("code", "name", "kind", "level"), ("code", "name"), _load_water_bodies, _water_bodies_after),
    "routes": Target(("code", "name", "district"), ("code", "name"), _load_routes, _routes_after),
}


def _text(value: Any) -> str | None:
    """Return an attribute value as our loaders expect it: text, or None when empty.

    Codes often sit in numeric DBF fields (500110.0): integral numbers lose the ".0".
    """
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _attribute(name: str, available: Iterable[str]) -> str | None:
    """Return the file's attribute called `name`, matched exactly, else ignoring case."""
    available = list(available)
    if name in available:
        return name
    folded = [a for a in available if a.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


def _check_fields(target: Target, target_name: str, mapping: Mapping[str, str], values: Mapping[str, str]) -> None:
    unknown = sorted((set(mapping) | set(values)) - set(target.fields))
    if unknown:
        raise BundleError(
            f"{target_name} 没有字段 / {target_name} has no field {', '.join(unknown)}; "
            f"fields: {', '.join(target.fields)}"
        )
    both = sorted(set(mapping) & set(values))
    if both:
        raise BundleError(f"字段既有映射又有常量 / field both mapped and set: {', '.join(both)}")


def _sources(path: Path, target: Target, mapping: Mapping[str, str], attributes: list[str]) -> dict[str, str]:
    """Return {our field: the file's attribute} for every field the file provides."""
    sources = {}
    for ours in target.fields:
        wanted = mapping.get(ours, ours)
        found = _attribute(wanted, attributes)
        if found is None and ours in mapping:
            raise BundleError(
                f"{path.name}: 没有属性 / no attribute {wanted!r} (for {ours}); "
                f"the file has: {', '.join(attributes) or '∅'}"
            )
        if found is not None:
            sources[ours] = found
    return sources


def _check_required(path: Path, target: Target, sources: Mapping[str, str], values: Mapping[str, str], attributes):
    missing = [name for name in target.required if name not in sources and name not in values]
    if missing:
        raise BundleError(
            f"{path.name}: 没有属性对应字段 / no attribute gives {', '.join(missing)}: "
            f"use --map FIELD=ATTRIBUTE or --set FIELD=VALUE; the file has: {', '.join(attributes) or '∅'}"
        )


def _mapped(path: Path, target: Target, raw_features: list[RawFeature], mapping, values) -> list[RawFeature]:
    """Return the features with their properties renamed to ours, constants filled in."""
    if not raw_features:
        return []
    attributes = list(raw_features[0].properties)
    sources = _sources(path, target, mapping, attributes)
    _check_required(path, target, sources, values, attributes)
    mapped = []
    for raw in raw_features:
        properties = {ours: _text(raw.properties.get(attribute)) for ours, attribute in sources.items()}
        properties.update(values)
        mapped.append(RawFeature(raw.index, properties, raw.geometry, raw.problem))
    return mapped


@transaction.atomic
def layer_load(
    path: Path,
    *,
    target: str,
    mapping: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    srid: Srid | None = None,
    encoding: str | None = None,
    layer: str | None = None,
) -> BundleReport:
    """Load one layer of a GIS file into `target`; raise BundleError (and keep nothing) at the first bad feature.

    `mapping` maps our field names to the file's attribute names (a field not mapped is read from
    the attribute of the same name, in any case, when there is one); `values` gives constants.
    """
    path = Path(path)
    if target not in TARGETS:
        raise BundleError(f"未知的目标图层 / unknown target {target!r}: one of {', '.join(TARGETS)}")
    spec = TARGETS[target]
    mapping, values = dict(mapping or {}), dict(values or {})
    _check_fields(spec, target, mapping, values)
    try:
        raw_features = list(read_ogr(path, layer=layer, srid=srid, encoding=encoding))
    except ReadError as exc:
        raise BundleError(f"{path.name}: {exc}") from exc
    features = _mapped(path, spec, raw_features, mapping, values)
    report = BundleReport()
    loaded = spec.load(path, report, features)
    spec.after(loaded, [feature.code for feature in features])
    return report
