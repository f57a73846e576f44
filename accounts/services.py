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
    flattrs_public: bool | None = None,
) -> User:
    user.display_name = display_name
    user.bio = bio
    user.website = website
    user.monthly_budget_cents = monthly_budget_cents
    fields = ["display_name", "bio", "website", "monthly_budget_cents"]
    if flattrs_public is not None:
        user.flattrs_public = flattrs_public
        fields.append("flattrs_public")
    user.full_clean(exclude=["password"])
    user.save(update_fields=fields)
    return user
