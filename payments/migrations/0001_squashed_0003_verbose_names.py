"""Squash of payments 0001 to 0003 (Django's squashmigrations): the top-ups
and webhook events of 0001, the top-up states and event payloads of 0002 and
the verbose names of 0003, as one CreateModel per model. Operations only; no
SQL or Python ran in the replaced migrations.

A fresh database runs this one; a database that applied the replaced
migrations keeps them, and Django records this squash as applied once all
three are. The replaced files stay until every installation has migrated
past 0003 (docs/development.md, "Squashed migrations")."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    replaces = [('payments', '0001_initial'), ('payments', '0002_topup_states_and_event_payload'), ('payments', '0003_verbose_names')]

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='TopUp',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('amount_cents', models.BigIntegerField(verbose_name='amount')),
                ('currency', models.CharField(default='eur', max_length=3, verbose_name='currency')),
                ('fee_cents', models.BigIntegerField(blank=True, null=True, verbose_name='fee')),
                ('reversed_cents', models.BigIntegerField(default=0, verbose_name='reversed')),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('expired', 'Expired'), ('cancelled', 'Cancelled')], default='pending', max_length=16, verbose_name='status')),
                ('gateway', models.CharField(choices=[('stripe', 'Stripe'), ('test', 'Test mode (no real money)')], max_length=16, verbose_name='gateway')),
                ('checkout_session_id', models.CharField(blank=True, max_length=255, null=True, unique=True, verbose_name='checkout session id')),
                ('payment_intent_id', models.CharField(blank=True, db_index=True, max_length=255, null=True, verbose_name='payment intent id')),
                ('charge_id', models.CharField(blank=True, db_index=True, max_length=255, null=True, verbose_name='charge id')),
                ('failure_reason', models.CharField(blank=True, max_length=500, verbose_name='failure reason')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='topups', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'ordering': ['-created_at'],
                'indexes': [models.Index(fields=['user', 'status', '-created_at'], name='topup_user_status')],
                'constraints': [models.CheckConstraint(condition=models.Q(('amount_cents__gt', 0)), name='topup_amount_positive'), models.CheckConstraint(condition=models.Q(('fee_cents__isnull', True), models.Q(('fee_cents__gte', 0), ('fee_cents__lt', models.F('amount_cents'))), _connector='OR'), name='topup_fee_below_amount'), models.CheckConstraint(condition=models.Q(('reversed_cents__gte', 0), ('reversed_cents__lte', models.F('amount_cents'))), name='topup_reversed_within_amount'), models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'succeeded', 'failed', 'expired', 'cancelled'])), name='topup_status_valid')],
                'verbose_name': 'top-up',
                'verbose_name_plural': 'top-ups',
            },
        ),
        migrations.CreateModel(
            name='WebhookEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('event_id', models.CharField(max_length=255, unique=True, verbose_name='event id')),
                ('type', models.CharField(max_length=100, verbose_name='type')),
                ('result', models.CharField(choices=[('processed', 'Processed'), ('ignored', 'Ignored (unknown type)'), ('refused', 'Refused'), ('malformed', 'Malformed (answered 400)')], default='processed', max_length=16, verbose_name='result')),
                ('detail', models.CharField(blank=True, max_length=500, verbose_name='detail')),
                ('received_at', models.DateTimeField(auto_now_add=True, verbose_name='received at')),
                ('payload', models.TextField(blank=True, default='', verbose_name='payload')),
            ],
            options={
                'ordering': ['-received_at'],
                'constraints': [models.CheckConstraint(condition=models.Q(('result__in', ['processed', 'ignored', 'refused', 'malformed'])), name='webhookevent_result_valid')],
                'verbose_name': 'webhook event',
                'verbose_name_plural': 'webhook events',
            },
        ),
    ]
