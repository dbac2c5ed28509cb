-- ticketflow schema 2 for PostgreSQL: row-level security, a second wall between tenants.
--
-- Every statement of a PostgresStore names its tenant already; these
-- policies make the server refuse the rest too, for roles that do not own the
-- tables (the owner, a superuser and roles with BYPASSRLS are not subject to
-- them: migrate as the owner, run the application as another role).  The
-- store names its tenant in the setting ticketflow.tenant on every
-- connection it uses; a session that has not named one sees no row.

ALTER TABLE ticketflow_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketflow_tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketflow_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketflow_ledger ENABLE ROW LEVEL SECURITY;

CREATE POLICY ticketflow_tenant ON ticketflow_counters
    USING (tenant = current_setting('ticketflow.tenant', true))
    WITH CHECK (tenant = current_setting('ticketflow.tenant', true));
CREATE POLICY ticketflow_tenant ON ticketflow_tickets
    USING (tenant = current_setting('ticketflow.tenant', true))
    WITH CHECK (tenant = current_setting('ticketflow.tenant', true));
CREATE POLICY ticketflow_tenant ON ticketflow_events
    USING (tenant = current_setting('ticketflow.tenant', true))
    WITH CHECK (tenant = current_setting('ticketflow.tenant', true));
CREATE POLICY ticketflow_tenant ON ticketflow_ledger
    USING (tenant = current_setting('ticketflow.tenant', true))
    WITH CHECK (tenant = current_setting('ticketflow.tenant', true));
