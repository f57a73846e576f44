"""The admin speaks French: model names, field names and choices (issue 14)."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst

pytestmark = pytest.mark.django_db

OUR_APPS = (
    "accounts",
    "api",
    "buttons",
    "claims",
    "ledger",
    "notifications",
    "payments",
    "payouts",
    "withdrawals",
    "yourdata",
)
# Words French writes as English does, and language names written in their own language.
SAME_IN_FRENCH = {
    "api",
    "action",
    "audio",
    "budget",
    "description",
    "e-mail",
    "e-mails",
    "english",
    "flattr",
    "flattrs",
    "français",
    "id",
    "images",
    "net",
    "note",
    "secret",
    "stripe",
    "type",
    "url",
}


def _our_models():
    return [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]


def _untranslated(text) -> bool:
    with translation.override("en"):
        english = str(text)
    with translation.override("fr"):
        french = str(text)
    return french == english and english.lower() not in SAME_IN_FRENCH


@pytest.mark.parametrize(
    "model",
    [m for m in admin.site._registry if m._meta.app_label in OUR_APPS],
    ids=lambda m: m._meta.label,
)
def test_admin_changelist_names_the_model_in_french(client, staff, model):
    opts = model._meta
    client.force_login(staff)
    response = client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 200
    with translation.override("fr"):
        plural = capfirst(str(opts.verbose_name_plural))
    page = response.content.decode()
    assert plural in page
    assert not _untranslated(opts.verbose_name_plural), opts.verbose_name_plural


def test_every_model_field_and_choice_has_a_french_name():
    missing = []
    for model in _our_models():
        opts = model._meta
        for text in (opts.verbose_name, opts.verbose_name_plural):
            if _untranslated(text):
                missing.append(f"{opts.label}: {text}")
        for field in opts.get_fields(include_hidden=False):
            if not field.concrete or field.auto_created:
                continue
            if _untranslated(field.verbose_name):
                missing.append(f"{opts.label}.{field.name}: {field.verbose_name}")
            for _value, label in field.flatchoices:
                if _untranslated(label):
                    missing.append(f"{opts.label}.{field.name} choice: {label}")
    assert missing == [], "\n".join(missing)


def test_indexed_search_help_is_french(client, staff):
    client.force_login(staff)
    page = client.get(
        reverse("admin:payouts_creatorline_changelist"), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "Adresse e-mail ou nom d’utilisateur exact, ou un identifiant." in page


def test_admin_index_header_apps_and_oauth_models_in_french(client, staff):
    """Issue 28, item 13: the header, the app names (BUTTONS) and
    django-oauth-toolkit's models were English on the French admin."""
    client.force_login(staff)
    page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    for english in (
        "Open Flattr administration",
        ">Buttons<",
        ">Withdrawals<",
        "Django OAuth Toolkit",
        ">Access tokens<",
        ">Refresh tokens<",
        ">Applications<",
        ">Grants<",
        ">Id tokens<",
    ):
        assert english not in page, english
    for french in (
        "Administration d’Open Flattr",
        ">Boutons et flattrs<",
        ">Retraits<",
        ">OAuth (applications et jetons)<",
        ">Jetons d’accès<",
        ">Jetons de rafraîchissement<",
        ">Applications OAuth<",
        ">Autorisations<",
        ">Jetons d’identité<",
    ):
        assert french in page, french
    from oauth2_provider.models import get_application_model

    get_application_model().objects.create(
        name="Podcast app",
        user=staff,
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://app.example/cb",
    )
    oauth = client.get(
        reverse("admin:oauth2_provider_application_changelist"), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "Type de client" in oauth and "Confidentiel" in oauth
    assert "Administration d’Open Flattr" in oauth
