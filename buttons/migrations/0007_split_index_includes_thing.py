"""The split reads a month's flattrs in (supporter, time, id) order with
their thing from the index alone (an index-only scan): no sort of the
month, no visit of the table. The new index is built before the old one
goes, so the split is never without one."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('buttons', '0006_verbose_names'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='flattr',
            index=models.Index(fields=['period', 'supporter', 'created_at', 'id'], include=('thing',), name='flattr_split_covering'),
        ),
        migrations.RemoveIndex(
            model_name='flattr',
            name='flattr_period_split',
        ),
    ]
