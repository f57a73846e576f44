from accounts.models import User


def username_taken(*, username: str, exclude_pk: int | None = None) -> bool:
    qs = User.objects.filter(username__iexact=username)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def user_by_username(*, username: str) -> User | None:
    return User.objects.filter(username__iexact=username, is_active=True).first()
