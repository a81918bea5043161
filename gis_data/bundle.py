"""Loading a dataset bundle (DESIGN §6): a folder of GeoJSON and JSON files, loaded as one transaction.

Loading twice updates by `code`. The first bad feature stops the load with the file, the feature's
index and code, and the reason; nothing of that load is kept.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import CharField, Model

from patrols.models import PatrolRoute
from rivers.chiefs import chief_assign
from rivers.crossing import network_recompute_all
from rivers.models import (
    AgencyKind,
    ChiefLevel,
    ChiefRole,
    District,
    DistrictLevel,
    Reach,
    WaterBody,
    WaterBodyKind,
)
from rivers.network import (
    agencies_derive,
    agency_upsert,
    district_parent_set,
    district_upsert,
    reach_upsert,
    river_upsert,
    water_body_upsert,
)

from .geometry import GeometryProblem, to_storable
from .readers import RawFeature, ReadError, read_geojson


class BundleError(Exception):
    """A bundle that cannot be loaded; the message names the file, feature index, code and reason."""


@dataclass
class BundleReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)

    def count(self, layer: str, created: bool) -> None:
        (self.created if created else self.updated)[layer] += 1

    def lines(self) -> list[str]:
        layers = sorted(set(self.created) | set(self.updated))
        return [f"{layer}: {self.created[layer]} 新建 created, {self.updated[layer]} 更新 updated" for layer in layers]


def feature_error(path: Path, index: int, code: str, reason: str) -> BundleError:
    return BundleError(f"{path.name}: 第 {index} 个要素 feature index {index} (code {code or '∅'}): {reason}")


def _features(
    path: Path,
    kind: str,
    required: tuple[str, ...],
    raw_features: list[RawFeature] | None = None,
    *,
    model: type[Model] | None = None,
) -> Iterator[tuple[RawFeature, Any]]:
    """Yield each feature of a layer with its storable geometry, or raise BundleError.

    The features are read from the GeoJSON file `path` unless given: gis_data.layers reads other
    formats itself and passes them in, `path` then only naming the file in messages. Text
    properties are checked against the lengths `model` allows.
    """
    limits = {
        field.name: field.max_length
        for field in (model._meta.get_fields() if model else ())
        if isinstance(field, CharField) and field.max_length
    }
    if raw_features is None:
        try:
            raw_features = list(read_geojson(path))
        except ReadError as exc:
            raise BundleError(f"{path.name}: {exc}") from exc
    seen: set[str] = set()
    for raw in raw_features:
        if raw.problem:
            raise feature_error(path, raw.index, raw.code, raw.problem)
        for name in required:
            if not text(raw, name):
                raise feature_error(path, raw.index, raw.code, f"缺少属性 / missing property '{name}'")
        for name, limit in limits.items():
            if len(str(raw.properties.get(name) or "")) > limit:
                raise feature_error(
                    path,
                    raw.index,
                    raw.code,
                    f"属性 '{name}' 超过 {limit} 个字符 / property '{name}' longer than {limit}",
                )
        if raw.code in seen:
            raise feature_error(path, raw.index, raw.code, "代码重复 / duplicate code in this file")
        seen.add(raw.code)
        try:
            geom = to_storable(raw.geometry, kind)
        except GeometryProblem as exc:
            raise feature_error(path, raw.index, raw.code, str(exc)) from exc
        yield raw, geom


def text(raw: RawFeature, name: str) -> str:
    """Return a property as trimmed text ("" when absent), whatever JSON type the file gave it."""
    value = raw.properties.get(name)
    return "" if value is None else str(value).strip()


def _choice(path: Path, raw: RawFeature, name: str, choices: type, default: str | None = None) -> str:
    value = str(raw.properties.get(name) or default or "").strip()
    if value not in choices.values:
        allowed = " | ".join(choices.values)
        raise feature_error(path, raw.index, raw.code, f"属性 '{name}' 的值 {value!r} 无效 / must be one of {allowed}")
    return value


def _load_districts(path: Path, report: BundleReport, raw_features: list[RawFeature] | None = None) -> list[District]:
    loaded: list[tuple[District, str | None, RawFeature]] = []
    for raw, geom in _features(path, "polygon", ("code", "name"), raw_features, model=District):
        level = _choice(path, raw, "level", DistrictLevel, default=DistrictLevel.DISTRICT)
        district, created = district_upsert(code=raw.code, name=text(raw, "name"), level=level, geom=geom)
        report.count("districts", created)
        parent = raw.properties.get("parent")
        loaded.append((district, str(parent).strip() if parent else None, raw))
    # Parents are set once every district of the file exists, so the file's order does not matter.
    for district, parent_code, raw in loaded:
        parent = None
        if parent_code:
            parent = District.objects.filter(code=parent_code).first()
            if parent is None:
                raise feature_error(path, raw.index, raw.code, f"上级代码不存在 / unknown parent '{parent_code}'")
            if parent.pk == district.pk:
                raise feature_error(path, raw.index, raw.code, "上级不能是自身 / parent is itself")
        district_parent_set(district, parent)
    return [district for district, _, _ in loaded]


def _load_reaches(
    path: Path, report: BundleReport, raw_features: list[RawFeature] | None = None
) -> list[tuple[Reach, str, RawFeature]]:
    """Load the reaches; return the chiefs named in their `chief` property, to assign afterwards."""
    named_chiefs = []
    for raw, geom in _features(path, "line", ("code", "name", "river"), raw_features, model=Reach):
        level = _choice(path, raw, "level", ChiefLevel)
        river = river_upsert(name=text(raw, "river"), code=text(raw, "river_code") or None)
        reach, created = reach_upsert(code=raw.code, name=text(raw, "name"), river=river, level=level, geom=geom)
        report.count("reaches", created)
        if text(raw, "chief"):
            named_chiefs.append((reach, text(raw, "chief"), raw))
    return named_chiefs


def _load_water_bodies(path: Path, report: BundleReport, raw_features: list[RawFeature] | None = None) -> None:
    for raw, geom in _features(path, "polygon", ("code", "name"), raw_features, model=WaterBody):
        kind = _choice(path, raw, "kind", WaterBodyKind, default=WaterBodyKind.RESERVOIR)
        level = str(raw.properties.get("level") or "")
        if level and level not in ChiefLevel.values:
            raise feature_error(path, raw.index, raw.code, f"属性 'level' 的值 {level!r} 无效 / invalid level")
        _, created = water_body_upsert(code=raw.code, name=text(raw, "name"), kind=kind, geom=geom, level=level)
        report.count("water bodies", created)


def _load_routes(path: Path, report: BundleReport, raw_features: list[RawFeature] | None = None) -> None:
    for raw, geom in _features(path, "line", ("code", "name"), raw_features, model=PatrolRoute):
        district_code = raw.properties.get("district")
        district = District.objects.filter(code=district_code).first() if district_code else None
        if district_code and district is None:
            raise feature_error(path, raw.index, raw.code, f"区县代码不存在 / unknown district '{district_code}'")
        if len(geom) != 1:
            raise feature_error(path, raw.index, raw.code, "路线须为一条连续的线 / a route must be one LineString")
        _, created = PatrolRoute.objects.update_or_create(
            code=raw.code, defaults={"name": text(raw, "name"), "district": district, "geom": geom[0]}
        )
        report.count("routes", created)


def _json_records(path: Path) -> list[dict[str, Any]]:
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path.name}: 不是有效的 UTF-8 JSON / not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise BundleError(f"{path.name}: 应为对象数组 / expected a JSON array of objects")
    return records


def _each_record(path: Path, load_one: Callable[[dict[str, Any]], None]) -> None:
    for index, record in enumerate(_json_records(path)):
        try:
            load_one(record)
        except (KeyError, ValueError, TypeError) as exc:
            reason = f"缺少字段 / missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise feature_error(path, index, str(record.get("code") or record.get("reach") or ""), reason) from exc


def _load_agencies(path: Path, report: BundleReport) -> None:
    def load_one(record: dict[str, Any]) -> None:
        if record["kind"] not in AgencyKind.values:
            raise ValueError(f"未知单位类型 / unknown kind {record['kind']!r}")
        district = District.objects.filter(code=record["district"]).first()
        if district is None:
            raise ValueError(f"区县代码不存在 / unknown district {record['district']!r}")
        _, created = agency_upsert(code=record["code"], name=record["name"], kind=record["kind"], district=district)
        report.count("agencies", created)

    _each_record(path, load_one)


def _load_chiefs(path: Path, report: BundleReport) -> None:
    def load_one(record: dict[str, Any]) -> None:
        if "reach" in record:
            target = {"reach": Reach.objects.filter(code=record["reach"]).first()}
        else:
            target = {"water_body": WaterBody.objects.filter(code=record["waterbody"]).first()}
        if None in target.values():
            raise ValueError(f"河段或水体代码不存在 / unknown reach or water body {record}")
        role = record.get("role", ChiefRole.CHIEF)
        if role not in ChiefRole.values or record["level"] not in ChiefLevel.values:
            raise ValueError(f"role 或 level 无效 / invalid role or level: {role!r}, {record['level']!r}")
        end = record.get("end")
        _, created = chief_assign(
            **target,
            person_name=record["name"],
            role=role,
            level=record["level"],
            start_date=datetime.date.fromisoformat(record["start"]),
            end_date=datetime.date.fromisoformat(end) if end else None,
        )
        report.count("chief assignments", created)

    _each_record(path, load_one)


@transaction.atomic
def bundle_load(directory: Path) -> BundleReport:
    """Load a bundle folder; raise BundleError (and keep nothing) at the first bad feature."""
    directory = Path(directory)
    if not directory.is_dir():
        raise BundleError(f"{directory}: 不是目录 / not a directory")
    for required in ("districts.geojson", "reaches.geojson"):
        if not (directory / required).is_file():
            raise BundleError(f"{required}: 缺少必需文件 / required file missing in {directory}")
    report = BundleReport()
    districts = _load_districts(directory / "districts.geojson", report)
    if (directory / "agencies.json").is_file():
        _load_agencies(directory / "agencies.json", report)
    else:
        agencies_derive(districts)
    named_chiefs = _load_reaches(directory / "reaches.geojson", report)
    optional: list[tuple[str, Callable[[Path, BundleReport], None]]] = [
        ("waterbodies.geojson", _load_water_bodies),
        ("chiefs.json", _load_chiefs),
        ("routes.geojson", _load_routes),
    ]
    for name, load in optional:
        if (directory / name).is_file():
            load(directory / name, report)
    # A reach's `chief` property names its current chief; chiefs.json, with dates, goes first.
    for reach, person_name, raw in named_chiefs:
        try:
            chief_assign(reach=reach, person_name=person_name, level=reach.level, start_date=datetime.date.today())
        except ValueError as exc:
            raise feature_error(directory / "reaches.geojson", raw.index, raw.code, str(exc)) from exc
    network_recompute_all()
    return report
