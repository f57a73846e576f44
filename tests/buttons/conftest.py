import pytest

from tests.factories import UserFactory


@pytest.fixture
def supporter(db):
    """A logged-out user whose wallet holds 10 EUR."""
    return UserFactory(wallet_cents=1000)
