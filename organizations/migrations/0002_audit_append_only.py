from django.db import migrations

FORBID_UPDATE = """
CREATE FUNCTION organizations_auditevent_forbid_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER organizations_auditevent_append_only
    BEFORE UPDATE ON organizations_auditevent
    FOR EACH ROW EXECUTE FUNCTION organizations_auditevent_forbid_update();
"""

ALLOW_UPDATE = """
DROP TRIGGER IF EXISTS organizations_auditevent_append_only ON organizations_auditevent;
DROP FUNCTION IF EXISTS organizations_auditevent_forbid_update();
"""


class Migration(migrations.Migration):
    """The audit trail can grow but not be rewritten; the database holds that line."""

    dependencies = [("organizations", "0001_initial")]

    operations = [migrations.RunSQL(FORBID_UPDATE, ALLOW_UPDATE)]
