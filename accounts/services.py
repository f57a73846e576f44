from django.db import transaction

from accounts.models import User


@transaction.atomic
def user_update_settings(
    *,
    user: User,
    display_name: str,
    bio: str,
    website: str,
    monthly_budget_cents: int,
) -> User:
    user.display_name = display_name
    user.bio = bio
    user.website = website
    user.monthly_budget_cents = monthly_budget_cents
    user.full_clean(exclude=["password"])
    user.save(update_fields=["display_name", "bio", "website", "monthly_budget_cents"])
    return user
