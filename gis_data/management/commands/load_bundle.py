from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gis_data.bundle import BundleError, bundle_load


class Command(BaseCommand):
    help = "加载数据包 Load a dataset bundle folder (districts, reaches, water bodies, agencies, chiefs, routes)."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)

    def handle(self, *args, directory: Path, **options):
        try:
            report = bundle_load(directory)
        except BundleError as exc:
            raise CommandError(f"加载失败，未做任何更改 / load failed, nothing changed: {exc}") from exc
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"已加载 loaded {directory}"))
