"""Keep what the API caches per caller true: the principals of bearer
tokens (api.authentication), dropped when a token or its user changes, and
a caller's marks on a thing (api.selectors.viewer_marks), dropped when one
of its flattrs or subscriptions of the thing changes (a tombstone, now
and on commit: api.services.tombstone)."""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from oauth2_provider.models import get_access_token_model

from api.models import PersonalToken
from api.selectors import MARKS_TTL, marks_key
from api.services import principals_forget, principals_forget_user, tombstone


def _token_changed(sender, instance, created: bool = False, **kwargs) -> None:
    if created:  # nothing cached yet
        return
    principals_forget([getattr(instance, "token_checksum", None) or instance.token_hash])


def _user_saved(sender, instance, created: bool = False, update_fields=None, **kwargs) -> None:
    if not created and set(update_fields or ()) != {"last_login"}:
        principals_forget_user(instance.pk)


def _marks_changed(sender, instance, **kwargs) -> None:
    key = marks_key(viewer_id=instance.supporter_id, thing_id=instance.thing_id)
    tombstone([key], MARKS_TTL)


def connect() -> None:
    from buttons.models import Flattr, Subscription

    for model in (Flattr, Subscription):
        post_save.connect(_marks_changed, sender=model, dispatch_uid=f"marks-{model.__name__}")
        post_delete.connect(
            _marks_changed, sender=model, dispatch_uid=f"marks-del-{model.__name__}"
        )
    AccessToken = get_access_token_model()
    for token_model in (AccessToken, PersonalToken):
        name = token_model.__name__
        post_save.connect(_token_changed, sender=token_model, dispatch_uid=f"principal-{name}")
        post_delete.connect(
            _token_changed, sender=token_model, dispatch_uid=f"principal-del-{name}"
        )
    post_save.connect(_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="principal-user")
