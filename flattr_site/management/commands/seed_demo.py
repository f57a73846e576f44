"""Idempotent demo data: people here, then each app's ``demo.seed``."""

import datetime as dt
import importlib

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from buttons.partitions import flattr_partitions_ensure
from flattr_site.demo import DEMO_JOINED_DAYS_AGO, DEMO_PASSWORD, DEMO_USERS

# Each app may provide demo.seed(*, users, stdout); order matters.
# ``funding`` saves test ways to pay before payouts posts a month, and
# settles it after (``seed_settle``; nothing in wallet mode).
APP_SEEDERS = ["ledger", "payments", "buttons", "funding", "payouts"]
AFTER_SEEDERS = [("funding", "seed_settle")]


class Command(BaseCommand):
    help = "Create demo people and data. Safe to run any number of times."

    def handle(self, *args, **options):
        users = self.seed_users()
        for app in APP_SEEDERS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            module.seed(users=users, stdout=self.stdout)
        # The demo's past months get their own partitions of flattrs now
        # rather than at beat's next daily run (docs/operations.md).
        flattr_partitions_ensure()
        for app, name in AFTER_SEEDERS:
            getattr(importlib.import_module(f"{app}.demo"), name)(users=users, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    @transaction.atomic
    def seed_users(self) -> dict:
        User = get_user_model()
        users = {}
        joined = timezone.now() - dt.timedelta(days=DEMO_JOINED_DAYS_AGO)
        for key, email, username, display_name, is_staff, budget in DEMO_USERS:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = User(
                    email=email,
                    username=username,
                    display_name=display_name,
                    monthly_budget_cents=budget,
                )
                user.is_staff = user.is_superuser = is_staff
                user.set_password(DEMO_PASSWORD)
                user.date_joined = joined
                user.save()
            elif user.date_joined > joined:
                # Seeded before demo people were backdated.
                user.date_joined = joined
                user.save(update_fields=["date_joined"])
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            users[key] = user
        return users
