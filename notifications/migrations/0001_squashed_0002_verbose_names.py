"""Squash of notifications 0001 and 0002 (Django's squashmigrations, then
tidied): the models of 0001 with the verbose names of 0002. Operations only;
no SQL or Python ran in the replaced migrations.

A fresh database runs this one; a database that applied the replaced
migrations keeps them, and Django records this squash as applied once both
are. The replaced files stay until every installation has migrated past 0002
(docs/development.md, "Squashed migrations")."""

import uuid

import django.db.models.deletion
import notifications.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    replaces = [('notifications', '0001_notifications'), ('notifications', '0002_verbose_names')]

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Event',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('type', models.CharField(choices=[('topup.succeeded', 'Top-up receipt'), ('wallet.low', 'Wallet below your budget'), ('statement.supporter', 'Monthly statement'), ('payout.posted', 'Monthly earnings statement'), ('withdrawal.paid', 'Withdrawal paid'), ('withdrawal.failed', 'Withdrawal failed'), ('flattr.created', 'New flattr'), ('subscription.created', 'New subscriber'), ('subscription.skipped', 'Subscription month skipped'), ('digest', 'Digest of new flattrs and subscribers'), ('webhook.disabled', 'Webhook endpoint disabled'), ('test', 'Test event')], max_length=40, verbose_name='type')),
                ('data', models.JSONField(default=dict, verbose_name='data')),
                ('key', models.CharField(max_length=200, unique=True, verbose_name='key')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='created at')),
                ('dispatched_at', models.DateTimeField(blank=True, null=True, verbose_name='dispatched at')),
                ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recipient')),
            ],
            options={
                'verbose_name': 'event',
                'verbose_name_plural': 'events',
                'indexes': [models.Index(fields=['recipient', 'type', 'created_at'], name='event_recipient')],
                'constraints': [models.CheckConstraint(condition=models.Q(('type__in', ['topup.succeeded', 'wallet.low', 'statement.supporter', 'payout.posted', 'withdrawal.paid', 'withdrawal.failed', 'flattr.created', 'subscription.created', 'subscription.skipped', 'digest', 'webhook.disabled', 'test'])), name='event_type_valid')],
            },
        ),
        migrations.CreateModel(
            name='Email',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending'), ('sent', 'Sent'), ('skipped', 'Skipped (switched off)'), ('failed', 'Failed')], default='pending', max_length=16, verbose_name='status')),
                ('to', models.CharField(blank=True, max_length=254, verbose_name='to')),
                ('subject', models.CharField(blank=True, max_length=300, verbose_name='subject')),
                ('attempts', models.IntegerField(default=0, verbose_name='attempts')),
                ('last_error', models.CharField(blank=True, max_length=500, verbose_name='last error')),
                ('claimed_at', models.DateTimeField(blank=True, null=True, verbose_name='claimed at')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                ('event', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='email', to='notifications.event', verbose_name='event')),
            ],
            options={
                'verbose_name': 'e-mail',
                'verbose_name_plural': 'e-mails',
                'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'sending', 'sent', 'skipped', 'failed'])), name='email_status_valid')],
            },
        ),
        migrations.CreateModel(
            name='NotificationSettings',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('language', models.CharField(choices=[('en', 'English'), ('fr', 'Français')], default='en', max_length=8, verbose_name='language')),
                ('digest', models.CharField(choices=[('off', 'Off'), ('daily', 'Daily'), ('weekly', 'Weekly')], default='off', max_length=8, verbose_name='digest')),
                ('muted', models.JSONField(blank=True, default=list, verbose_name='switched off')),
                ('last_digest_at', models.DateTimeField(blank=True, null=True, verbose_name='last digest at')),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='notification_settings', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'notification settings',
                'verbose_name_plural': 'notification settings',
                'constraints': [
                    models.CheckConstraint(condition=models.Q(('language__in', ['en', 'fr'])), name='notify_language_valid'),
                    models.CheckConstraint(condition=models.Q(('digest__in', ['off', 'daily', 'weekly'])), name='notify_digest_valid'),
                ],
            },
        ),
        migrations.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('url', models.URLField(max_length=1000, verbose_name='URL')),
                ('description', models.CharField(blank=True, max_length=200, verbose_name='description')),
                ('types', models.JSONField(default=list, verbose_name='events')),
                ('secret', models.CharField(default=notifications.models.new_webhook_secret, max_length=100, verbose_name='secret')),
                ('previous_secret', models.CharField(blank=True, max_length=100, verbose_name='previous secret')),
                ('previous_secret_until', models.DateTimeField(blank=True, null=True, verbose_name='previous secret valid until')),
                ('enabled', models.BooleanField(default=True, verbose_name='enabled')),
                ('disabled_reason', models.CharField(blank=True, max_length=300, verbose_name='why disabled')),
                ('failing_since', models.DateTimeField(blank=True, null=True, verbose_name='failing since')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_endpoints', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
            ],
            options={
                'verbose_name': 'webhook endpoint',
                'verbose_name_plural': 'webhook endpoints',
                'constraints': [models.CheckConstraint(condition=models.Q(('url__startswith', 'http://'), ('url__startswith', 'https://'), _connector='OR'), name='webhook_url_is_http')],
            },
        ),
        migrations.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('succeeded', 'Delivered'), ('failed', 'Failed (gave up)')], default='pending', max_length=16, verbose_name='status')),
                ('attempts', models.IntegerField(default=0, verbose_name='attempts')),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='next attempt at')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='created at')),
                ('delivered_at', models.DateTimeField(blank=True, null=True, verbose_name='delivered at')),
                ('event', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='notifications.event', verbose_name='event')),
                ('endpoint', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='notifications.webhookendpoint', verbose_name='webhook endpoint')),
            ],
            options={
                'verbose_name': 'webhook delivery',
                'verbose_name_plural': 'webhook deliveries',
                'constraints': [
                    models.UniqueConstraint(fields=('endpoint', 'event'), name='one_delivery_per_event_per_endpoint'),
                    models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'succeeded', 'failed'])), name='delivery_status_valid'),
                ],
            },
        ),
        migrations.CreateModel(
            name='WebhookAttempt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(auto_now_add=True, verbose_name='at')),
                ('status_code', models.IntegerField(blank=True, null=True, verbose_name='status code')),
                ('response_body', models.CharField(blank=True, max_length=2000, verbose_name='response body')),
                ('error', models.CharField(blank=True, max_length=500, verbose_name='error')),
                ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempt_log', to='notifications.webhookdelivery', verbose_name='webhook delivery')),
            ],
            options={
                'ordering': ['-at', '-id'],
                'verbose_name': 'webhook attempt',
                'verbose_name_plural': 'webhook attempts',
            },
        ),
    ]
