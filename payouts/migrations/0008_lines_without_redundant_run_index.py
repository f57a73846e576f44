"""A line table's run is the first column of its unique (run, ...) index: the
run's own index only slowed every line's insert (a million per month)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0007_verbose_names_chunks"),
    ]

    operations = [
        migrations.AlterField(
            model_name="creatorline",
            name="run",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="creator_lines",
                to="payouts.payoutrun",
                verbose_name="run",
            ),
        ),
        migrations.AlterField(
            model_name="supporterline",
            name="run",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="supporter_lines",
                to="payouts.payoutrun",
                verbose_name="run",
            ),
        ),
        migrations.AlterField(
            model_name="thingline",
            name="run",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="thing_lines",
                to="payouts.payoutrun",
                verbose_name="run",
            ),
        ),
        migrations.AlterField(
            model_name="unclaimedline",
            name="run",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="unclaimed_lines",
                to="payouts.payoutrun",
                verbose_name="run",
            ),
        ),
    ]
