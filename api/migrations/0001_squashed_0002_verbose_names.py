"""Squash of api 0001 and 0002 (Django's squashmigrations): the personal tokens
of 0001 with the verbose names of 0002, in one CreateModel. Operations only;
no SQL or Python ran in the replaced migrations.

A fresh database runs this one; a database that applied the replaced
migrations keeps them, and Django records this squash as applied once both
are. The replaced files stay until every installation has migrated past 0002
(docs/development.md, "Squashed migrations")."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    replaces = [('api', '0001_personal_tokens'), ('api', '0002_verbose_names')]

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PersonalToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=80, verbose_name='name')),
                ('token_hash', models.CharField(max_length=64, unique=True, verbose_name='token hash')),
                ('token_hint', models.CharField(max_length=12, verbose_name='token hint')),
                ('scope', models.CharField(blank=True, max_length=100, verbose_name='scopes')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('last_used_at', models.DateTimeField(blank=True, null=True, verbose_name='last used at')),
                ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='revoked at')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='personal_tokens', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'indexes': [models.Index(fields=['user', '-created_at'], name='personal_token_user')],
                'verbose_name': 'personal access token',
                'verbose_name_plural': 'personal access tokens',
            },
        ),
    ]
