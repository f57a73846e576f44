"""What a database outage is, and what we tell people during one.

Shared by the site's outage middleware and the REST API's error handler, so
both answer the same 503 with the same ``Retry-After``.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _

RETRY_AFTER_SECONDS = 30
DATABASE_ERRORS = (OperationalError, InterfaceError)


def unavailable_description() -> str:
    return _("The platform is briefly unavailable. Try again in a moment.")
