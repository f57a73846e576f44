import pytest

from tests.factories import UserFactory


@pytest.fixture
def after(settings):
    """After mode with the test gateway (which wants DEBUG) and transfers in
    the same settle."""
    settings.FLATTR_FUNDING = "after"
    settings.PAYMENT_GATEWAY = "test"
    settings.DEBUG = True
    settings.FLATTR_TRANSFER_AFTER_DAYS = 0
    settings.FLATTR_CHARGE_RETRY_DAYS = [1, 3, 7]
    settings.FLATTR_FEE_PERCENT = 10
    return settings


@pytest.fixture
def admin_user():
    return UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")
