import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flattr_site.settings")

app = Celery("flattr_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Connects the signals that carry request ids into tasks.
import flattr_site.observability  # noqa: E402, F401
