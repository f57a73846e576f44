import pytest

from tests.factories import UserFactory, flattr, supporter, thing
from tests.payouts.helpers import P


@pytest.fixture
def admin_user():
    """Staff who may approve runs; the commands name them by e-mail."""
    return UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")


@pytest.fixture
def month():
    """September 2026: one supporter flattred two of Claire's things and one unclaimed thing."""
    creator = UserFactory(username="claire", email="claire@example.org")
    s = supporter(budget=200, username="sophie", email="sophie@example.org")
    flattr(s, thing(owner=creator), P)
    flattr(s, thing(owner=creator), P)
    flattr(s, thing(owner=None), P)
    return creator, s
