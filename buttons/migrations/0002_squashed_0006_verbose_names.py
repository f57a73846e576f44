"""Squash of buttons 0002 to 0006 (Django's squashmigrations, then tidied):
subscriptions and a flattr's source, the auto-submit policy and unlisted
things, a thing's update time, verified sites, the three merges and the
verbose names, as the models stood at 0006. Operations only; no SQL or Python
ran in the replaced migrations.

A fresh database runs this one; a database that applied the replaced
migrations (all or some of them) keeps them, and Django records this squash
as applied once they all are. The replaced files stay until every
installation has migrated past 0006 (docs/development.md, "Squashed
migrations")."""

import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    replaces = [
        ('buttons', '0002_subscriptions_and_flattr_source'),
        ('buttons', '0003_thing_updated_at'),
        ('buttons', '0002_auto_submit_policy_unlisted'),
        ('buttons', '0003_merge_subscriptions_auto_submit'),
        ('buttons', '0004_merge_api_trust_web'),
        ('buttons', '0003_verified_site'),
        ('buttons', '0005_merge_classic'),
        ('buttons', '0006_verbose_names'),
    ]

    dependencies = [
        ('accounts', '0001_initial'),
        ('buttons', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Subscription',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('months', models.PositiveSmallIntegerField(verbose_name='months')),
                ('months_remaining', models.PositiveSmallIntegerField(verbose_name='months remaining')),
                ('last_period', models.DateField(blank=True, null=True, verbose_name='last month flattred')),
                ('status', models.CharField(choices=[('active', 'Active'), ('paused', 'Paused'), ('cancelled', 'Cancelled')], default='active', max_length=16, verbose_name='status')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('supporter', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='subscriptions', to=settings.AUTH_USER_MODEL, verbose_name='supporter')),
                ('thing', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='subscriptions', to='buttons.thing', verbose_name='thing')),
            ],
            options={
                'verbose_name': 'subscription',
                'verbose_name_plural': 'subscriptions',
                'indexes': [models.Index(condition=models.Q(('status', 'active')), fields=['status', 'last_period'], name='subscription_active_due')],
                'constraints': [
                    models.CheckConstraint(condition=models.Q(('months__in', (1, 3, 6, 12))), name='subscription_months_1_3_6_or_12'),
                    models.CheckConstraint(condition=models.Q(('months_remaining__lte', models.F('months'))), name='subscription_remaining_within_months'),
                    models.CheckConstraint(condition=models.Q(('status__in', ['active', 'paused', 'cancelled'])), name='subscription_status_valid'),
                    models.CheckConstraint(condition=models.Q(('last_period__isnull', True), ('last_period__day', 1), _connector='OR'), name='subscription_last_period_is_first_of_month'),
                    models.UniqueConstraint(condition=models.Q(('status', 'cancelled'), _negated=True), fields=('supporter', 'thing'), name='one_live_subscription_per_supporter_and_thing'),
                ],
            },
        ),
        migrations.AddField(
            model_name='flattr',
            name='source',
            field=models.CharField(choices=[('button', 'Button'), ('api', 'API'), ('subscription', 'Subscription')], default='button', max_length=16, verbose_name='source'),
        ),
        migrations.AddConstraint(
            model_name='flattr',
            constraint=models.CheckConstraint(condition=models.Q(('source__in', ['button', 'api', 'subscription'])), name='flattr_source_valid'),
        ),
        migrations.AddField(
            model_name='thing',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, null=True, verbose_name='updated at'),
        ),
        migrations.AddField(
            model_name='thing',
            name='submitted_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='submitted by'),
        ),
        migrations.AddField(
            model_name='thing',
            name='unlisted',
            field=models.BooleanField(default=False, verbose_name='unlisted'),
        ),
        migrations.CreateModel(
            name='AutoSubmitPolicy',
            fields=[
                ('owner', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='auto_submit_policy', serialize=False, to=settings.AUTH_USER_MODEL, verbose_name='owner')),
                ('enabled', models.BooleanField(default=True, verbose_name='accept auto-submitted things')),
                ('url_prefixes', models.TextField(blank=True, verbose_name='only addresses starting with')),
            ],
            options={
                'verbose_name': 'auto-submit policy',
                'verbose_name_plural': 'auto-submit policies',
            },
        ),
        migrations.CreateModel(
            name='VerifiedSite',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scheme', models.CharField(default='https', max_length=5, verbose_name='scheme')),
                ('host', models.CharField(max_length=255, verbose_name='host')),
                ('path_prefix', models.CharField(blank=True, default='', max_length=500, verbose_name='path prefix')),
                ('verified_at', models.DateTimeField(verbose_name='verified at')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='verified_sites', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
            ],
            options={
                'verbose_name': 'verified site',
                'verbose_name_plural': 'verified sites',
                'constraints': [
                    models.UniqueConstraint(fields=('host', 'path_prefix'), name='one_owner_per_site'),
                    models.CheckConstraint(condition=models.Q(('host', django.db.models.functions.text.Lower('host'))), name='verified_site_host_is_lower'),
                ],
            },
        ),
        # The verbose names of 0006 on the models of 0001 (no change in the
        # database).
        migrations.AlterModelOptions(
            name='flattr',
            options={'verbose_name': 'flattr', 'verbose_name_plural': 'flattrs'},
        ),
        migrations.AlterModelOptions(
            name='thing',
            options={'verbose_name': 'thing', 'verbose_name_plural': 'things'},
        ),
        migrations.AlterField(
            model_name='flattr',
            name='created_at',
            field=models.DateTimeField(db_index=True, verbose_name='created at'),
        ),
        migrations.AlterField(
            model_name='flattr',
            name='period',
            field=models.DateField(verbose_name='period'),
        ),
        migrations.AlterField(
            model_name='flattr',
            name='supporter',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='flattrs', to=settings.AUTH_USER_MODEL, verbose_name='supporter'),
        ),
        migrations.AlterField(
            model_name='flattr',
            name='thing',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='flattrs', to='buttons.thing', verbose_name='thing'),
        ),
        migrations.AlterField(
            model_name='thing',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='created at'),
        ),
        migrations.AlterField(
            model_name='thing',
            name='owner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='things', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
        ),
    ]
