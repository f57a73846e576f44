import pytest


@pytest.fixture
def test_mode(settings):
    """No Stripe keys, DEBUG on: payouts go through the test-mode stand-in."""
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
