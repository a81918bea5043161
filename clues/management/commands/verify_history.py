from django.core.management.base import BaseCommand, CommandError

from clues.history import history_verify
from clues.models import ClueEvent


class Command(BaseCommand):
    help = "核验线索办理记录 Check that every clue's chain of events is intact (no row rewritten or removed)."

    def handle(self, *args, **options):
        breaks = list(history_verify())
        for found in breaks:
            self.stderr.write(f"{found.clue_code} #{found.seq}: {found.problem}")
        if breaks:
            raise CommandError(f"记录链断裂 / history broken in {len(breaks)} place(s)")
        self.stdout.write(self.style.SUCCESS(f"记录链完整 / history intact: {ClueEvent.objects.count()} events"))
