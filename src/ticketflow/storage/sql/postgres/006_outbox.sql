-- ticketflow schema: the outbox (SQLite's version 5), its consumers' cursors and held records.
--
-- A commit with the outbox on inserts one record per history event, in its
-- own statement: serial is drawn then, position is NULL.  Positions are given
-- later, by a reader, to committed records only, in serial order and under
-- the lock of the tenant's row in ticketflow_outbox_head: a record that
-- commits late gets a later position than every record read before it, so a
-- reader moving on from its last position never skips one, and each ticket's
-- records (whose commits the ticket's row lock orders) keep their order.
-- Writers never wait for readers.  Times are microseconds since 1970-01-01 UTC.

CREATE TABLE ticketflow_outbox (
    tenant text NOT NULL,
    serial bigint GENERATED ALWAYS AS IDENTITY,
    position bigint,
    id text COLLATE "C" NOT NULL,
    ticket_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    event text NOT NULL,
    actor text NOT NULL,
    at bigint NOT NULL,
    data text NOT NULL,
    PRIMARY KEY (tenant, serial)
);

CREATE UNIQUE INDEX ticketflow_outbox_by_position ON ticketflow_outbox (tenant, position) WHERE position IS NOT NULL;
CREATE INDEX ticketflow_outbox_unpositioned ON ticketflow_outbox (tenant, serial) WHERE position IS NULL;

CREATE TABLE ticketflow_outbox_head (
    tenant text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (tenant)
);

CREATE TABLE ticketflow_outbox_consumers (
    tenant text NOT NULL,
    consumer text COLLATE "C" NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (tenant, consumer)
);

CREATE TABLE ticketflow_outbox_held (
    tenant text NOT NULL,
    consumer text COLLATE "C" NOT NULL,
    position bigint NOT NULL,
    ticket_id text COLLATE "C" NOT NULL,
    attempts integer NOT NULL,
    next_at bigint NOT NULL,
    error text,
    dead boolean NOT NULL,
    PRIMARY KEY (tenant, consumer, position)
);

CREATE INDEX ticketflow_outbox_held_by_position ON ticketflow_outbox_held (tenant, position);

ALTER TABLE ticketflow_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketflow_outbox_head ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketflow_outbox_consumers ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketflow_outbox_held ENABLE ROW LEVEL SECURITY;

CREATE POLICY ticketflow_tenant ON ticketflow_outbox
    USING (tenant = current_setting('ticketflow.tenant', true))
    WITH CHECK (tenant = current_setting('ticketflow.tenant', true));
CREATE POLICY ticketflow_tenant ON ticketflow_outbox_head
    USING (tenant = current_setting('ticketflow.tenant', true))
    WITH CHECK (tenant = current_setting('ticketflow.tenant', true));
CREATE POLICY ticketflow_tenant ON ticketflow_outbox_consumers
    USING (tenant = current_setting('ticketflow.tenant', true))
    WITH CHECK (tenant = current_setting('ticketflow.tenant', true));
CREATE POLICY ticketflow_tenant ON ticketflow_outbox_held
    USING (tenant = current_setting('ticketflow.tenant', true))
    WITH CHECK (tenant = current_setting('ticketflow.tenant', true));
