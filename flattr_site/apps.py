from django.apps import AppConfig


class FlattrSiteConfig(AppConfig):
    name = "flattr_site"
    verbose_name = "Open Flattr"
