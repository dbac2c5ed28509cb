-- ticketflow schema 4 for PostgreSQL: each ticket's kept SLA clocks.
--
-- sla_due_at is the nearest instant at which one of the ticket's running SLA
-- clocks falls due (or fell due, once breached), as of its last commit
-- (microseconds since 1970-01-01 UTC, NULL when no clock runs); sla_policies
-- names the SLA policies and workflow that kept the clocks (their
-- fingerprint, NULL for never kept); sla_state is the clocks themselves, as
-- JSON text the desk writes.  An SLA queue reads the tickets through the
-- first index, in due order, so its first page costs what it returns; a desk
-- finds the tickets other policies kept through the second.

ALTER TABLE ticketflow_tickets ADD COLUMN sla_due_at bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN sla_policies text COLLATE "C";
ALTER TABLE ticketflow_tickets ADD COLUMN sla_state text NOT NULL DEFAULT '';

CREATE INDEX ticketflow_tickets_by_sla_due_at ON ticketflow_tickets (tenant, sla_due_at, id) WHERE sla_due_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_sla_policies ON ticketflow_tickets (tenant, sla_policies, id);
