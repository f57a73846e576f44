import pytest
from django.core.management import call_command

from accounts.models import User


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    counts = {User: User.objects.count()}
    call_command("seed_demo")
    assert User.objects.count() == counts[User] == 5
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_staff and admin.is_superuser
    assert admin.check_password("flattr-demo")
