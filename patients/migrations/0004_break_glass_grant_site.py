"""Keep the site on each break-the-glass grant, so the access log stays with the site where
the access happened even when the patient's record moves."""

import django.db.models.deletion
from django.db import migrations, models


def copy_patient_site(apps, schema_editor):
    BreakGlassGrant = apps.get_model("patients", "BreakGlassGrant")
    for grant in BreakGlassGrant.objects.select_related("patient").iterator():
        grant.site_id = grant.patient.site_id
        grant.save(update_fields=["site"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("patients", "0003_intake_screening_consents"),
    ]

    operations = [
        migrations.AddField(
            model_name="breakglassgrant",
            name="site",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.site",
                help_text="Where the patient's record was held then.",
            ),
        ),
        migrations.RunPython(copy_patient_site, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="breakglassgrant",
            name="site",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.site",
                help_text="Where the patient's record was held then.",
            ),
        ),
    ]
