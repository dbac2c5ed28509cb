-- ticketflow schema, whole: what a new database gets from PostgresStore.migrate().
--
-- Applied by PostgresStore.migrate() in one transaction, under an advisory
-- lock.  Every table and every key starts with the tenant, so the schema can
-- be distributed by tenant.  Text is stored with NUL written as \x01\x01 and
-- \x01 as \x01\x02 (PostgreSQL text cannot hold NUL); ids sort as code points
-- (COLLATE "C"), as Python sorts them.  Times are integer microseconds since
-- 1970-01-01 UTC; tags, fields, actors and changes are JSON text, as the
-- codec of ticketflow.storage writes them for every store.
--
-- It equals what replaying every migration (001_schema.sql, ...) gives, and
-- a test compares the two: a new migration changes this file in the same
-- commit.  A database made from it starts at the latest schema version.

CREATE TABLE ticketflow_counters (
    tenant text NOT NULL,
    name text NOT NULL,
    value bigint NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE ticketflow_tickets (
    tenant text NOT NULL,
    id text COLLATE "C" NOT NULL,
    version bigint NOT NULL CHECK (version >= 1),
    status text NOT NULL,
    subject text NOT NULL,
    description text NOT NULL,
    requester_id text NOT NULL,
    requester_name text NOT NULL,
    requester_email text,
    requester_phone text,
    priority text NOT NULL,
    channel text NOT NULL,
    assignee text,
    department text,
    tags text NOT NULL,
    tag_list text[] NOT NULL,
    fields text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    status_changed_at bigint NOT NULL,
    first_response_at bigint,
    last_customer_activity_at bigint,
    last_agent_activity_at bigint,
    resolved_at bigint,
    closed_at bigint,
    postponed_until bigint,
    reopen_count bigint NOT NULL,
    parent_id text,
    next_due_at bigint,
    schedule text COLLATE "C",
    sla_due_at bigint,
    sla_policies text COLLATE "C",
    sla_state text NOT NULL DEFAULT '',
    fig_key text COLLATE "C",
    fig_first_response bigint,
    fig_resolution bigint,
    fig_business_first_response bigint,
    fig_business_resolution bigint,
    fig_resolution_clock bigint,
    fig_resolved_at bigint,
    fig_replies bigint,
    fig_customer_replies bigint,
    fig_policy text,
    fig_sla_first_response bigint,
    fig_sla_first_response_at bigint,
    fig_sla_next_response bigint,
    fig_sla_next_response_at bigint,
    fig_sla_resolution bigint,
    fig_sla_resolution_at bigint,
    fig_sla_close_within bigint,
    fig_sla_close_within_at bigint,
    fig_rating bigint,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE ticketflow_events (
    tenant text NOT NULL,
    ticket_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    at bigint NOT NULL,
    actor text NOT NULL,
    name text NOT NULL,
    from_status text,
    to_status text NOT NULL,
    body text,
    changes text NOT NULL,
    PRIMARY KEY (tenant, ticket_id, seq),
    FOREIGN KEY (tenant, ticket_id) REFERENCES ticketflow_tickets (tenant, id) ON DELETE CASCADE
);

CREATE TABLE ticketflow_ledger (
    tenant text NOT NULL,
    rule text NOT NULL,
    ticket_id text COLLATE "C" NOT NULL,
    episode bigint NOT NULL,
    fired_at bigint NOT NULL,
    PRIMARY KEY (tenant, rule, ticket_id, episode),
    FOREIGN KEY (tenant, ticket_id) REFERENCES ticketflow_tickets (tenant, id) ON DELETE CASCADE
);

CREATE INDEX ticketflow_ledger_by_ticket ON ticketflow_ledger (tenant, ticket_id);
CREATE INDEX ticketflow_tickets_by_status ON ticketflow_tickets (tenant, status, created_at);
CREATE INDEX ticketflow_tickets_by_assignee ON ticketflow_tickets (tenant, assignee, status);
CREATE INDEX ticketflow_tickets_by_department ON ticketflow_tickets (tenant, department, status);
CREATE INDEX ticketflow_tickets_by_requester ON ticketflow_tickets (tenant, requester_id, created_at);
CREATE INDEX ticketflow_tickets_by_created_at ON ticketflow_tickets (tenant, created_at);
CREATE INDEX ticketflow_tickets_by_updated_at ON ticketflow_tickets (tenant, updated_at);
-- Tags: containment (tag_list @> ARRAY[...]) through a GIN index.
CREATE INDEX ticketflow_tickets_by_tags ON ticketflow_tickets USING gin (tag_list);
-- The due queries: one partial index per time field that can be unset.
CREATE INDEX ticketflow_tickets_by_status_status_changed_at ON ticketflow_tickets (tenant, status, status_changed_at) WHERE status_changed_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_status_changed_at ON ticketflow_tickets (tenant, status_changed_at) WHERE status_changed_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_status_first_response_at ON ticketflow_tickets (tenant, status, first_response_at) WHERE first_response_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_first_response_at ON ticketflow_tickets (tenant, first_response_at) WHERE first_response_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_status_last_customer_activity_at ON ticketflow_tickets (tenant, status, last_customer_activity_at) WHERE last_customer_activity_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_last_customer_activity_at ON ticketflow_tickets (tenant, last_customer_activity_at) WHERE last_customer_activity_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_status_last_agent_activity_at ON ticketflow_tickets (tenant, status, last_agent_activity_at) WHERE last_agent_activity_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_last_agent_activity_at ON ticketflow_tickets (tenant, last_agent_activity_at) WHERE last_agent_activity_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_status_resolved_at ON ticketflow_tickets (tenant, status, resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_resolved_at ON ticketflow_tickets (tenant, resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_status_closed_at ON ticketflow_tickets (tenant, status, closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_closed_at ON ticketflow_tickets (tenant, closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_status_postponed_until ON ticketflow_tickets (tenant, status, postponed_until) WHERE postponed_until IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_postponed_until ON ticketflow_tickets (tenant, postponed_until) WHERE postponed_until IS NOT NULL;
-- The stored schedule: the due tickets, and those another rule set scheduled.
CREATE INDEX ticketflow_tickets_by_next_due_at ON ticketflow_tickets (tenant, next_due_at, id) WHERE next_due_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_schedule ON ticketflow_tickets (tenant, schedule, id);
-- The kept SLA clocks: the SLA queue in due order, and those other policies kept.
CREATE INDEX ticketflow_tickets_by_sla_due_at ON ticketflow_tickets (tenant, sla_due_at, id) WHERE sla_due_at IS NOT NULL;
CREATE INDEX ticketflow_tickets_by_sla_policies ON ticketflow_tickets (tenant, sla_policies, id);

-- The stored figures: the tickets whose figures another key (or none) computed.
CREATE INDEX ticketflow_tickets_by_figures ON ticketflow_tickets (tenant, fig_key, id);

-- Search: each ticket's text as one tsvector (007_search.sql says how it is kept).
CREATE TABLE ticketflow_search (
    tenant text NOT NULL,
    ticket_id text COLLATE "C" NOT NULL,
    document tsvector NOT NULL,
    PRIMARY KEY (tenant, ticket_id),
    FOREIGN KEY (tenant, ticket_id) REFERENCES ticketflow_tickets (tenant, id) ON DELETE CASCADE
);
CREATE INDEX ticketflow_search_by_document ON ticketflow_search USING gin (document);

-- Row-level security, a second wall between tenants (002_row_level_security.sql
-- says how it works).
ALTER TABLE ticketflow_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketflow_tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketflow_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketflow_ledger ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketflow_search ENABLE ROW LEVEL SECURITY;

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
CREATE POLICY ticketflow_tenant ON ticketflow_search
    USING (tenant = current_setting('ticketflow.tenant', true))
    WITH CHECK (tenant = current_setting('ticketflow.tenant', true));

-- The outbox (006_outbox.sql says how its positions are given).
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

-- What the planner knows of the report's groups (008_labels_statistics.sql says why).
CREATE STATISTICS ticketflow_tickets_by_labels (ndistinct)
    ON department, priority, assignee, status FROM ticketflow_tickets;
