"""Every admin page opens (lists, and the add page where adding is allowed) on the Qijiang demo."""

from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import reverse

from gis_data.bundle import bundle_load

QIJIANG = Path(__file__).resolve().parents[1] / "gis_data" / "samples" / "qijiang"


@pytest.fixture
def root(db):
    bundle_load(QIJIANG)
    return get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-123")


def test_every_admin_page_opens(root):
    superuser_client = Client()
    superuser_client.force_login(root)
    request = RequestFactory().get("/admin/")
    request.user = root
    opened = 0
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        response = superuser_client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code == 200, info
        # What the admin lists: the clue pages list only the clues the user may see (DESIGN §5).
        first = model_admin.get_queryset(request).first()
        if first is not None:
            page = superuser_client.get(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
            assert page.status_code == 200, info
        if model_admin.has_add_permission(request):
            assert superuser_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200, info
        opened += 1
    assert opened >= 15
