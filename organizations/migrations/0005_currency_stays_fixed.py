from django.db import migrations

KEEP_FIXED = """
CREATE FUNCTION organizations_organization_keep_currency() RETURNS trigger AS $$
BEGIN
    IF OLD.currency_locked_at IS NOT NULL THEN
        IF NEW.currency IS DISTINCT FROM OLD.currency THEN
            RAISE EXCEPTION 'the currency of organization % is fixed', OLD.id;
        END IF;
        -- A whole-row save from a copy read before the currency was fixed keeps it fixed.
        NEW.currency_locked_at := OLD.currency_locked_at;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER organizations_organization_currency_fixed
    BEFORE UPDATE ON organizations_organization
    FOR EACH ROW EXECUTE FUNCTION organizations_organization_keep_currency();
"""

LET_CHANGE = """
DROP TRIGGER IF EXISTS organizations_organization_currency_fixed ON organizations_organization;
DROP FUNCTION IF EXISTS organizations_organization_keep_currency();
"""


class Migration(migrations.Migration):
    """Once fixed (at the first purchase), an organization's currency never changes: the
    database holds that line, whatever path writes the row."""

    dependencies = [("organizations", "0004_invitations")]

    operations = [migrations.RunSQL(KEEP_FIXED, LET_CHANGE)]
