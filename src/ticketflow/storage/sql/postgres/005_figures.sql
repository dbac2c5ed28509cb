-- ticketflow schema 5 for PostgreSQL: each ticket's figures, kept for the metrics report.
--
-- One column a figure (durations in microseconds, instants in microseconds
-- since 1970-01-01 UTC; fig_sla_<target> is an SLA target's verdict: 1 met,
-- 0 breached, 2 open, with fig_sla_<target>_at the instant an open one breaches;
-- fig_rating is the satisfaction rating: 1-5 a score, 6 "bad", 7 "good",
-- negated if the requester could not rate now; 0 none yet though the requester
-- could rate, NULL none and could not).
-- fig_key names what they were computed under (NULL: never computed); a desk
-- finds the tickets to compute again through the index.  Another figure is
-- one more column.

ALTER TABLE ticketflow_tickets ADD COLUMN fig_key text COLLATE "C";
ALTER TABLE ticketflow_tickets ADD COLUMN fig_first_response bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_resolution bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_business_first_response bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_business_resolution bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_resolution_clock bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_resolved_at bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_replies bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_customer_replies bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_policy text;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_sla_first_response bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_sla_first_response_at bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_sla_next_response bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_sla_next_response_at bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_sla_resolution bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_sla_resolution_at bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_sla_close_within bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_sla_close_within_at bigint;
ALTER TABLE ticketflow_tickets ADD COLUMN fig_rating bigint;

CREATE INDEX ticketflow_tickets_by_figures ON ticketflow_tickets (tenant, fig_key, id);
