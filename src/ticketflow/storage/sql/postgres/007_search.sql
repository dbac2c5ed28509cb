-- ticketflow schema for PostgreSQL: each ticket's text, for full-text search.
--
-- One row a ticket: its subject (weight A), description (B) and the bodies of
-- its replies and notes, its conversation (C), as one tsvector, found through
-- a GIN index.  A store keeps it in the statement of each create and commit,
-- in the language (text search configuration) it was given, 'simple' unless
-- told otherwise: every store of one database must use the same, and
-- PostgresStore.reindex_search() writes every row again in a new one.  This
-- migration indexes the tickets already stored, in 'simple'.

CREATE TABLE ticketflow_search (
    tenant text NOT NULL,
    ticket_id text COLLATE "C" NOT NULL,
    document tsvector NOT NULL,
    PRIMARY KEY (tenant, ticket_id),
    FOREIGN KEY (tenant, ticket_id) REFERENCES ticketflow_tickets (tenant, id) ON DELETE CASCADE
);

CREATE INDEX ticketflow_search_by_document ON ticketflow_search USING gin (document);

ALTER TABLE ticketflow_search ENABLE ROW LEVEL SECURITY;

CREATE POLICY ticketflow_tenant ON ticketflow_search
    USING (tenant = current_setting('ticketflow.tenant', true))
    WITH CHECK (tenant = current_setting('ticketflow.tenant', true));

INSERT INTO ticketflow_search (tenant, ticket_id, document)
SELECT tickets.tenant, tickets.id,
    setweight(to_tsvector('simple', tickets.subject), 'A')
    || setweight(to_tsvector('simple', tickets.description), 'B')
    || setweight(to_tsvector('simple', coalesce((
        SELECT string_agg(events.body, E'\n' ORDER BY events.seq)
        FROM ticketflow_events AS events
        WHERE events.tenant = tickets.tenant AND events.ticket_id = tickets.id
            AND events.name IN ('agent_reply', 'customer_reply', 'note', 'closing_review')
            AND events.body IS NOT NULL
    ), '')), 'C')
FROM ticketflow_tickets AS tickets;
