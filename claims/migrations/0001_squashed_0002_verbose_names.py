"""Squash of claims 0001 and 0002 (Django's squashmigrations): the claims
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

    replaces = [('claims', '0001_claims'), ('claims', '0002_verbose_names')]

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Claim',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('thing', 'A thing'), ('site', 'A whole site'), ('feed', 'A podcast feed')], max_length=8, verbose_name='what')),
                ('method', models.CharField(choices=[('meta', 'A meta tag on the page'), ('well_known', 'A file at /.well-known/flattr-verification.txt'), ('podcast_txt', 'A podcast:txt tag in the feed'), ('rel_me', 'A rel="me" link to your profile')], max_length=16, verbose_name='proof')),
                ('url', models.URLField(max_length=1000, verbose_name='address')),
                ('host', models.CharField(max_length=255, verbose_name='host')),
                ('path_prefix', models.CharField(blank=True, default='', max_length=500, verbose_name='path prefix')),
                ('token_hash', models.CharField(max_length=64, verbose_name='token hash')),
                ('token_expires_at', models.DateTimeField(verbose_name='token expires at')),
                ('state', models.CharField(choices=[('pending', 'Waiting for your proof'), ('checking', 'Checking'), ('verified', 'Verified'), ('failed', 'Not verified'), ('review', 'Waiting for staff review'), ('rejected', 'Rejected by staff')], default='pending', max_length=12, verbose_name='state')),
                ('reason_code', models.CharField(blank=True, default='', max_length=32, verbose_name='reason')),
                ('reason_params', models.JSONField(blank=True, default=dict, verbose_name='reason details')),
                ('assigned_count', models.PositiveIntegerField(default=0, verbose_name='things assigned')),
                ('checks', models.PositiveIntegerField(default=0, verbose_name='checks')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('checked_at', models.DateTimeField(blank=True, null=True, verbose_name='checked at')),
                ('verified_at', models.DateTimeField(blank=True, null=True, verbose_name='verified at')),
                ('creator', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='claims', to=settings.AUTH_USER_MODEL, verbose_name='creator')),
                ('reviewed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='reviewed by')),
            ],
            options={
                'indexes': [models.Index(fields=['host', 'state'], name='claim_host_state')],
                'constraints': [models.CheckConstraint(condition=models.Q(('kind__in', ['thing', 'site', 'feed'])), name='claim_kind_valid'), models.CheckConstraint(condition=models.Q(('method__in', ['meta', 'well_known', 'podcast_txt', 'rel_me'])), name='claim_method_valid'), models.CheckConstraint(condition=models.Q(('state__in', ['pending', 'checking', 'verified', 'failed', 'review', 'rejected'])), name='claim_state_valid'), models.CheckConstraint(condition=models.Q(('url__startswith', 'http://'), ('url__startswith', 'https://'), _connector='OR'), name='claim_url_is_http'), models.CheckConstraint(condition=models.Q(models.Q(('kind', 'feed'), _negated=True), ('method', 'podcast_txt'), _connector='OR'), name='claim_feed_is_proven_by_podcast_txt'), models.CheckConstraint(condition=models.Q(models.Q(('state', 'verified'), _negated=True), ('verified_at__isnull', False), _connector='OR'), name='claim_verified_has_a_time'), models.UniqueConstraint(condition=models.Q(('state__in', ['failed', 'rejected']), _negated=True), fields=('creator', 'kind', 'url'), name='one_live_claim_per_creator_and_address'), models.UniqueConstraint(condition=models.Q(('kind', 'site'), ('state', 'verified')), fields=('host', 'path_prefix'), name='one_verified_claim_per_site')],
                'verbose_name': 'claim',
                'verbose_name_plural': 'claims',
            },
        ),
    ]
