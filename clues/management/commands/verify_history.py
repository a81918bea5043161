from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from clues.history import history_verify
from clues.models import Clue, ClueEvent


class Command(BaseCommand):
    help = (
        "核验线索办理记录 Check every clue's signed history: altered events, events removed in the middle "
        "(broken_link) or at the end (removed_tail), re-hashed chains, emptied histories, unanchored events."
    )

    def add_arguments(self, parser):
        parser.add_argument("codes", nargs="*", metavar="CODE", help="only these clues (all by default)")

    def handle(self, *args, codes, **options):
        clues = Clue.objects.filter(code__in=codes) if codes else Clue.objects.all()
        breaks = list(history_verify(clues))
        for found in breaks:
            self.stderr.write(f"{found.clue_code} #{found.seq}: {found.problem} [{found.kind}]")
        if breaks:
            kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(Counter(b.kind for b in breaks).items()))
            raise CommandError(f"记录链断裂 / history broken in {len(breaks)} place(s) ({kinds})")
        events = ClueEvent.objects.filter(clue__in=clues).count()
        self.stdout.write(self.style.SUCCESS(f"记录链完整 / history intact: {events} events of {clues.count()} clues"))
