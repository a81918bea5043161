from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gis_data.bundle import BundleError
from gis_data.coords import srid_parse
from gis_data.layers import TARGETS, layer_load


def _pairs(option: str, items: list[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"{option} 应为 字段=值 / {option} expects FIELD=VALUE, got {item!r}")
        pairs[name.strip()] = value.strip()
    return pairs


class Command(BaseCommand):
    help = (
        "加载一个图层 Load one layer of a GIS file (Shapefile, GeoPackage, KML, GeoJSON, GPX) into districts, "
        "reaches, water bodies or routes, updating by code."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the file (a .shp with its .dbf/.prj/.cpg, .gpkg, .kml, ...)")
        parser.add_argument("--target", required=True, choices=list(TARGETS), help="what the features are")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=ATTRIBUTE",
            help="read our FIELD (code, name, level, parent, river, kind, district) from the file's ATTRIBUTE",
        )
        parser.add_argument(
            "--set", action="append", default=[], metavar="FIELD=VALUE", help="give every feature FIELD=VALUE"
        )
        parser.add_argument(
            "--srid", help="the file's coordinate system when its .prj is missing or wrong: 4490, gcj02"
        )
        parser.add_argument("--encoding", help="encoding of a Shapefile's attributes when no .cpg says it, e.g. gbk")
        parser.add_argument("--layer", help="the layer to read when the file has several")

    def handle(self, *args, path: Path, target: str, **options):
        mapping = _pairs("--map", options["map"])
        values = _pairs("--set", options["set"])
        try:
            srid = srid_parse(options["srid"]) if options["srid"] else None
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        try:
            report = layer_load(
                path,
                target=target,
                mapping=mapping,
                values=values,
                srid=srid,
                encoding=options["encoding"],
                layer=options["layer"],
            )
        except BundleError as exc:
            raise CommandError(f"加载失败，未做任何更改 / load failed, nothing changed: {exc}") from exc
        for line in report.lines() or [f"{target}: 0 新建 created, 0 更新 updated"]:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"已加载 loaded {path}"))
