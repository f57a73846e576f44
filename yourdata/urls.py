from django.urls import path

from yourdata import views

urlpatterns = [
    path("settings/data/", views.your_data, name="your_data"),
    path("settings/data/export.json", views.export_json, name="your_data_json"),
    path("settings/data/export.csv", views.export_csv, name="your_data_csv"),
]
