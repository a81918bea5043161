from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gis_data.bundle import BundleError, bundle_load
from gis_data.demo import demo_activity
from rivers.members import member_add
from rivers.models import Agency

QIJIANG = Path(__file__).resolve().parents[2] / "samples" / "qijiang"
DEMO_PASSWORD = "river-demo-2026"

# (username, agency code, role, who they stand for)
DEMO_USERS = [
    ("qj_patrol", "500110-RCO", "patrol", "綦江区联合巡查队员 joint patrol member"),
    ("qj_chief", "500110-RCO", "chief", "綦江区河长 district river chief"),
    ("qj_river_office", "500110-RCO", "river_office", "綦江区河长办 river-office staff"),
    ("qj_prosecutor", "500110-PROC", "prosecutor", "綦江区检察院检察官 district prosecutor"),
    ("qj_liaison", "500110-LIAISON", "liaison", "派驻检察联络室 liaison officer"),
    ("jj_prosecutor", "500116-PROC", "prosecutor", "江津区检察院检察官 neighbouring prosecutor"),
    ("cq_prosecutor", "500000-PROC", "prosecutor", "重庆市检察院检察官 municipal prosecutor"),
    ("gis_admin", "500110-RCO", "gis_admin", "GIS管理员 GIS administrator (admin site)"),
]


class Command(BaseCommand):
    help = (
        "加载綦江演示数据、演示账号与演示线索 Load the Qijiang demo bundle, the demo users (prints them) and the"
        " demo's clues and plans (gis_data/demo.py)"
    )

    def handle(self, *args, **options):
        try:
            with transaction.atomic():
                report = bundle_load(QIJIANG)
                for username, agency_code, role, _ in DEMO_USERS:
                    agency = Agency.objects.get(code=agency_code)
                    member_add(username=username, agency=agency, role=role, password=DEMO_PASSWORD)
                admin, _ = get_user_model().objects.get_or_create(username="admin")
                admin.is_staff = admin.is_superuser = True
                admin.set_password(DEMO_PASSWORD)
                admin.save()
                activity = demo_activity()
        except BundleError as exc:
            raise CommandError(str(exc)) from exc
        for line in [*report.lines(), *activity]:
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS("綦江演示数据已加载 Qijiang demo loaded. 演示账号 Demo users:"))
        self.stdout.write(f"  {'username':<16} {'password':<16} {'agency':<16} role")
        for username, agency_code, role, who in [*DEMO_USERS, ("admin", "—", "superuser", "系统管理员 system admin")]:
            self.stdout.write(f"  {username:<16} {DEMO_PASSWORD:<16} {agency_code:<16} {role:<13} {who}")
