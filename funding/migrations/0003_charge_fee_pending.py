from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("funding", "0002_settle_sees_waiting"),
    ]

    operations = [
        migrations.AddField(
            model_name="charge",
            name="fee_pending",
            field=models.BooleanField(db_default=False, default=False, verbose_name="fee pending"),
        ),
        migrations.AddIndex(
            model_name="charge",
            index=models.Index(
                condition=models.Q(("fee_pending", True)),
                fields=["run"],
                name="charge_fee_pending",
            ),
        ),
    ]
