import datetime

from django.db import migrations


# The defaults of DESIGN §4 as they stood when this migration was written (clues.deadlines has the sources).
DEFAULT_POLICIES = [
    ("first_answer", 1, "months", "000 §二(三)：接到线索后一般应当在一个月内向移送部门反馈办理情况"),
    ("feedback", 10, "days", "002 §三(二)：在办结后十日内向移送方反馈案件办理情况或处理结果"),
    ("suggestion_reply", 2, "months", "行政诉讼法第25条：收到检察建议之日起两个月内依法履职"),
    ("suggestion_reply_urgent", 15, "days", "紧急情形下十五日内书面回复"),
    ("transfer_interval", 6, "months", "002 §三(二)：原则上应每半年移送一次案件线索"),
    ("due_soon", 3, "days", "临期提醒"),
]


def load_defaults(apps, schema_editor):
    DeadlinePolicy = apps.get_model("clues", "DeadlinePolicy")
    for rule, amount, unit, note in DEFAULT_POLICIES:
        DeadlinePolicy.objects.get_or_create(
            rule=rule, effective_from=datetime.date(2000, 1, 1), defaults={"amount": amount, "unit": unit, "note": note}
        )


class Migration(migrations.Migration):
    dependencies = [("clues", "0002_history_append_only")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
