from django.db import migrations

FORBID = """
CREATE FUNCTION credit_transfer_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'transfers are immutable: post a correcting transfer instead';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER credit_transfer_immutable
    BEFORE UPDATE OR DELETE ON credit_transfer
    FOR EACH ROW EXECUTE FUNCTION credit_transfer_forbid_change();
"""

ALLOW = """
DROP TRIGGER IF EXISTS credit_transfer_immutable ON credit_transfer;
DROP FUNCTION IF EXISTS credit_transfer_forbid_change();
"""


class Migration(migrations.Migration):
    """The ledger is append-only; the database holds that line, not only the code."""

    dependencies = [("credit", "0001_initial")]

    operations = [migrations.RunSQL(FORBID, ALLOW)]
