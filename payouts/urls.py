from django.urls import path

from payouts import transparency_views, views, views_onward

urlpatterns = [
    path("months/", views.my_months, name="my_months"),
    path("settings/onward/", views_onward.onward_settings, name="onward_settings"),
]

# Transparency (notify helper)
urlpatterns += [
    path("transparency/", transparency_views.transparency_page, name="transparency"),
    path("transparency.json", transparency_views.transparency_json, name="transparency_json"),
    path("transparency.csv", transparency_views.transparency_csv, name="transparency_csv"),
    path(
        "transparency/verify_statement.py",
        transparency_views.verifier_download,
        name="verifier_download",
    ),
    path(
        "months/<str:period>/proof.json",
        transparency_views.statement_proof,
        name="statement_proof",
    ),
]
