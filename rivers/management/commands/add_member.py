from django.core.management.base import BaseCommand, CommandError

from rivers.members import member_add
from rivers.models import Agency, Role


class Command(BaseCommand):
    help = "添加成员 Create the user if needed and give them a role in an agency."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--agency", required=True, help="agency code, e.g. 500110-PROC")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", help="set (or reset) the password")

    def handle(self, *args, username: str, agency: str, role: str, password: str | None, **options):
        found = Agency.objects.filter(code=agency).first()
        if found is None:
            raise CommandError(f"单位不存在 / unknown agency {agency!r}")
        membership, created = member_add(username=username, agency=found, role=role, password=password)
        verb = "已添加 added" if created else "已存在 already had"
        self.stdout.write(f"{verb}: {membership.user.get_username()} · {found.code} · {role}")
