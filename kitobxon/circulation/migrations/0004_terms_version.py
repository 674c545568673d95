"""The lending terms' version token and the triggers that change it (``circulation.terms``).

Triggers rather than model signals: every write to a rule, opening hours or a closure day
changes the token in the same transaction, however it is made (services, admin,
``QuerySet.update``, raw SQL).
"""

import uuid

from django.db import migrations, models

TABLES = ("circulation_loanrule", "circulation_openinghours", "circulation_closureday")
VERSION = "circulation_termsversion"

POSTGRES_FUNCTION = f"""
CREATE FUNCTION circulation_terms_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {VERSION} SET token = replace(gen_random_uuid()::text, '-', '') WHERE id = 1;
    RETURN NULL;
END $$;
"""


def create(apps, schema_editor):
    apps.get_model("circulation", "TermsVersion").objects.create(id=1, token=uuid.uuid4().hex)
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(POSTGRES_FUNCTION)
    for table in TABLES:
        if postgres:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_terms AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION circulation_terms_changed()"
            )
            continue
        for event in ("INSERT", "UPDATE", "DELETE"):
            schema_editor.execute(
                f"CREATE TRIGGER {table}_terms_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN UPDATE {VERSION} SET token = lower(hex(randomblob(16))) WHERE id = 1; END"
            )


def drop(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for table in TABLES:
        if postgres:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_terms ON {table}")
            continue
        for event in ("insert", "update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_terms_{event}")
    if postgres:
        schema_editor.execute("DROP FUNCTION IF EXISTS circulation_terms_changed()")


class Migration(migrations.Migration):
    dependencies = [("circulation", "0003_sent_notice")]

    operations = [
        migrations.CreateModel(
            name="TermsVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.CharField(max_length=32)),
            ],
            options={
                "verbose_name": "lending terms version",
                "verbose_name_plural": "lending terms versions",
            },
        ),
        migrations.RunPython(create, drop),
    ]
