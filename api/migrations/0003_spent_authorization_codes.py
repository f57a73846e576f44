import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_verbose_names"),
        ("oauth2_provider", "0022_refreshtoken_token_family_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="SpentAuthorizationCode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "code_hash",
                    models.CharField(max_length=64, unique=True, verbose_name="code hash"),
                ),
                (
                    "token_family",
                    models.UUIDField(blank=True, null=True, verbose_name="token family"),
                ),
                ("spent_at", models.DateTimeField(auto_now_add=True, verbose_name="spent at")),
                (
                    "access_token",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="oauth2_provider.accesstoken",
                        verbose_name="access token",
                    ),
                ),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="oauth2_provider.application",
                        verbose_name="application",
                    ),
                ),
            ],
            options={
                "verbose_name": "spent authorization code",
                "verbose_name_plural": "spent authorization codes",
                "indexes": [
                    models.Index(fields=["application", "spent_at"], name="spent_code_app_time")
                ],
            },
        ),
    ]
