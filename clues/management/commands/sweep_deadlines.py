"""`manage.py sweep_deadlines [--date YYYY-MM-DD]`: run the deadline sweep once, as the beat task does."""

import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from clues.notifications import deadlines_sweep


class Command(BaseCommand):
    help = "通知临期和逾期事项 / Notify what is due soon or overdue (safe to run any number of times)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="sweep as if today were this day (YYYY-MM-DD); default: today")

    def handle(self, *args, date=None, **options):
        try:
            today = datetime.date.fromisoformat(date) if date else None
        except ValueError as error:
            raise CommandError(f"--date: {error}") from error
        report = deadlines_sweep(today=today)
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
