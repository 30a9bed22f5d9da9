"""DRF's never-expiring tokens (rest_framework.authtoken, removed from INSTALLED_APPS) are
replaced by django-rest-knox: drop their table on databases that had it, so no plain-text
token is left behind. Nothing to undo: the old tokens must not come back."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_sign_in_security")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop)
    ]
