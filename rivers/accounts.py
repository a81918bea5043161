"""Sign-in: API tokens that expire, and that die with the password or the account (DESIGN §5)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from rest_framework.authtoken.models import Token


def token_expired(token: Token, *, now: datetime.datetime | None = None) -> bool:
    """Say whether `token` is older than API_TOKEN_TTL_DAYS."""
    now = now or timezone.now()
    return token.created <= now - datetime.timedelta(days=settings.API_TOKEN_TTL_DAYS)


@transaction.atomic
def token_issue(*, user) -> Token:  # noqa: ANN001 - a user
    """Return the user's token, a fresh one when the one they had expired."""
    token = Token.objects.select_for_update().filter(user=user).first()
    if token is not None and token_expired(token):
        token.delete()
        token = None
    if token is None:
        token = Token.objects.create(user=user)
    return token


def tokens_revoke(*, user) -> int:  # noqa: ANN001 - a user
    """Delete every API token of `user`; return how many there were."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted


# Why a signal: passwords change and accounts are deactivated in places this project does not own
# (the admin's user and password forms, `manage.py changepassword`, `createsuperuser`, a shell), and
# every one of them ends in User.save(). Comparing the saved row with the one being saved is the only
# hook they all pass through. QuerySet.update() bypasses it: revoke explicitly after one.
def _note_credentials_change(sender, instance, raw=False, **kwargs) -> None:  # noqa: ANN001
    if raw or instance.pk is None:
        return
    before = sender._default_manager.filter(pk=instance.pk).values("password", "is_active").first()
    instance._revoke_tokens = before is not None and (
        before["password"] != instance.password or (before["is_active"] and not instance.is_active)
    )


def _revoke_after_credentials_change(sender, instance, raw=False, **kwargs) -> None:  # noqa: ANN001
    if getattr(instance, "_revoke_tokens", False):
        instance._revoke_tokens = False
        tokens_revoke(user=instance)


def connect_signals() -> None:
    """Revoke a user's tokens whenever their password changes or their account is deactivated."""
    user_model = get_user_model()
    pre_save.connect(_note_credentials_change, sender=user_model, dispatch_uid="accounts-note-credentials")
    post_save.connect(_revoke_after_credentials_change, sender=user_model, dispatch_uid="accounts-revoke-tokens")
