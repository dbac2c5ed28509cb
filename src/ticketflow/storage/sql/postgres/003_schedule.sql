-- ticketflow schema 3 for PostgreSQL: each ticket's stored schedule.
--
-- next_due_at is the earliest instant at which one of the desk's rules would
-- act on the ticket if nothing else happened (microseconds since 1970-01-01
-- UTC, NULL for never); schedule names the rule set that computed it (its
-- fingerprint, NULL for never computed).  A sweep reads the due tickets
-- through the first index, so its cost follows what is due; a desk finds
-- tickets another rule set scheduled through the second.

ALTER TABLE ticketflow_tickets ADD COLUMN next_due_at bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN schedule text COLLATE "C";

CREATE INDEX ticketflow_tickets_by_next_due_at ON ticketflow_tickets (tenant, next_due_at, id) WHERE next_due_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_schedule ON ticketflow_tickets (tenant, schedule, id);
