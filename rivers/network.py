"""Writes to the river network, shared by the bundle loader, load_layer and the admin.

Each upsert is keyed by `code` so that loading the same data twice changes nothing. The derived
fields (lengths, districts, cross-district) are recomputed by the caller once a batch is written,
with rivers.crossing.
"""

from __future__ import annotations

from django.contrib.gis.geos import MultiLineString, MultiPolygon

from .access import access_change_record, guarded_values
from .models import AccessAction, Agency, AgencyKind, District, DistrictLevel, Reach, River, WaterBody


def _recorded_upsert(model, *, code: str, defaults: dict):  # noqa: ANN001, ANN202 - a model; (row, created)
    """update_or_create by code, recording a new row or a change of its guarded fields (rivers.access).

    The loaders run at the command line, which only a system administrator reaches: the record names
    no user.
    """
    existing = model.objects.filter(code=code).first()
    before = guarded_values(existing) if existing is not None else None
    row, created = model.objects.update_or_create(code=code, defaults=defaults)
    action = AccessAction.ADD if created else AccessAction.CHANGE
    access_change_record(actor=None, obj=row, action=action, before=before, by_anyone=True)
    return row, created


def district_upsert(*, code: str, name: str, level: str, geom: MultiPolygon) -> tuple[District, bool]:
    """Create or update the district `code` (its parent is set separately, once all exist)."""
    return _recorded_upsert(District, code=code, defaults={"name": name, "level": level, "geom": geom})


def district_parent_set(district: District, parent: District | None) -> None:
    """Give `district` its parent (recorded: the parent decides whose municipal procuratorate it is)."""
    if district.parent_id == (parent.pk if parent else None):
        return
    before = guarded_values(district)
    district.parent = parent
    district.save(update_fields=["parent"])
    access_change_record(actor=None, obj=district, action=AccessAction.CHANGE, before=before, by_anyone=True)


def river_upsert(*, name: str, code: str | None = None) -> River:
    """Return the river `code` (its name when the data has no river codes), creating it if needed."""
    river, _ = River.objects.update_or_create(code=code or name, defaults={"name": name})
    return river


def reach_upsert(*, code: str, name: str, river: River, level: str, geom: MultiLineString) -> tuple[Reach, bool]:
    return Reach.objects.update_or_create(
        code=code, defaults={"name": name, "river": river, "level": level, "geom": geom}
    )


def water_body_upsert(
    *, code: str, name: str, kind: str, geom: MultiPolygon, level: str = ""
) -> tuple[WaterBody, bool]:
    return WaterBody.objects.update_or_create(
        code=code, defaults={"name": name, "kind": kind, "geom": geom, "level": level}
    )


def agency_upsert(*, code: str, name: str, kind: str, district: District) -> tuple[Agency, bool]:
    return _recorded_upsert(Agency, code=code, defaults={"name": name, "kind": kind, "district": district})


# DESIGN §6: the agencies every city and district gets when a bundle brings no agencies.json.
DERIVED_AGENCIES = [
    ("PROC", AgencyKind.PROCURATORATE, "{name}人民检察院"),
    ("RCO", AgencyKind.RIVER_OFFICE, "{name}河长办公室"),
    ("LIAISON", AgencyKind.LIAISON_OFFICE, "{name}人民检察院派驻{name}河长办公室检察联络室"),
]


def agencies_derive(districts: list[District]) -> list[Agency]:
    """Give every city and district its procuratorate, river office and liaison office."""
    agencies = []
    for district in districts:
        if district.level not in (DistrictLevel.CITY, DistrictLevel.DISTRICT):
            continue
        for suffix, kind, template in DERIVED_AGENCIES:
            agency, _ = agency_upsert(
                code=f"{district.code}-{suffix}",
                name=template.format(name=district.name),
                kind=kind,
                district=district,
            )
            agencies.append(agency)
    return agencies
