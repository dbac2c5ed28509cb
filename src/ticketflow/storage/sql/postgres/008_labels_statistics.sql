-- ticketflow schema 8 for PostgreSQL: what the planner knows of the report's groups.
--
-- Store.aggregate (the metrics report) groups the selected tickets by their
-- department, priority, assignee and status together.  Without statistics
-- on how many such groups exist, the planner guesses thousands, and sorts
-- every ticket's row to group them (spilling to disk at 100,000 tickets);
-- with them it knows there are few and counts them in a hash table, about
-- twice as fast.  ANALYZE (autovacuum) fills them; nothing else reads them.
-- IF NOT EXISTS: a database brought back to an earlier version by hand (as
-- a test of 007 does) replays this step over the object it kept.

CREATE STATISTICS IF NOT EXISTS ticketflow_tickets_by_labels (ndistinct)
    ON department, priority, assignee, status FROM ticketflow_tickets;
