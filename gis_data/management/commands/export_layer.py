from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gis_data.export import EXPORTS, FORMATS, ExportError, layer_export


class Command(BaseCommand):
    help = "导出一个图层 Export districts, reaches, water bodies or routes as GeoJSON (EPSG:4326) or a Shapefile."

    def add_arguments(self, parser):
        parser.add_argument("output", type=Path, help="the file to write (.geojson, or .shp with its sidecar files)")
        parser.add_argument("--target", required=True, choices=list(EXPORTS), help="the layer to export")
        parser.add_argument("--format", choices=FORMATS, help="default: shapefile for a .shp output, else geojson")

    def handle(self, *args, output: Path, target: str, **options):
        try:
            report = layer_export(target=target, path=output, file_format=options["format"])
        except ExportError as exc:
            raise CommandError(f"导出失败 / export failed: {exc}") from exc
        for warning in report.warnings:
            self.stderr.write(warning)
        self.stdout.write(self.style.SUCCESS(f"已导出 exported {report.count} {target} → {report.path}"))
