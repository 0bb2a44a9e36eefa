-- After-call work categories, callbacks (terugbelverzoeken), the audit log
-- of reads of callers' data (NEN 7513), and which care team a queue's
-- callbacks go to.

-- Wrap-up categories, per tenant; a new tenant starts with the defaults
-- below (kicctl category add/remove edits them; kicd hears of changes on
-- the kic_config channel).
CREATE TABLE categories (
    tenant_id bigint NOT NULL REFERENCES tenants,
    name      text NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
    PRIMARY KEY (tenant_id, name)
);

CREATE FUNCTION kic_default_categories() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO categories (tenant_id, name)
    SELECT NEW.tenant_id, c FROM unnest(ARRAY[
        'huishoudelijke hulp', 'wijkverpleging', 'planning en roosters', 'facturen en eigen bijdrage',
        'indicatie en aanvraag', 'hulpmiddelen', 'klacht', 'compliment', 'informatie', 'overig'
    ]) AS c ON CONFLICT DO NOTHING;
    PERFORM pg_notify('kic_config', 'categories:' || NEW.tenant_id);
    RETURN NEW;
END $$;

CREATE TRIGGER tenants_default_categories AFTER INSERT ON tenants
FOR EACH ROW EXECUTE FUNCTION kic_default_categories();

INSERT INTO categories (tenant_id, name)
SELECT t.tenant_id, c FROM tenants t, unnest(ARRAY[
    'huishoudelijke hulp', 'wijkverpleging', 'planning en roosters', 'facturen en eigen bijdrage',
    'indicatie en aanvraag', 'hulpmiddelen', 'klacht', 'compliment', 'informatie', 'overig'
]) AS c ON CONFLICT DO NOTHING;

-- The care team a queue's callback requests go to (when the IVR does not
-- say); without a row the queue's own name is the team.
CREATE TABLE queue_teams (
    tenant_id bigint NOT NULL REFERENCES tenants,
    queue     text NOT NULL,
    team      text NOT NULL,
    PRIMARY KEY (tenant_id, queue)
);

-- Callback requests: open -> claimed -> done | cancelled. The plain
-- number is kept only while the callback is open or claimed (someone has
-- to call it) and is cleared when it closes.
CREATE TABLE callbacks (
    tenant_id    bigint NOT NULL,
    callback_id  text NOT NULL,
    source       text NOT NULL CHECK (source IN ('ivr', 'agent')),
    team         text NOT NULL,
    queue        text,
    call_id      text,
    caller_key   text,
    number       text,
    status       text NOT NULL CHECK (status IN ('open', 'claimed', 'done', 'cancelled')),
    created_at   timestamptz NOT NULL,
    due_by       timestamptz NOT NULL,
    created_by   text,
    claimed_by   text,
    claimed_at   timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    last_attempt timestamptz,
    closed_at    timestamptz,
    outcome      text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, callback_id),
    CHECK (status IN ('open', 'claimed') OR number IS NULL)
);

CREATE INDEX callbacks_open ON callbacks (tenant_id, team) WHERE status IN ('open', 'claimed');
CREATE INDEX callbacks_created ON callbacks (tenant_id, created_at);

-- Notes on a callback (at creation, and with each attempt): sensitive,
-- never logged, purged with the raw events (retention).
CREATE TABLE callback_notes (
    tenant_id   bigint NOT NULL,
    callback_id text NOT NULL,
    at          timestamptz NOT NULL,
    agent       text NOT NULL,
    note        text NOT NULL,
    PRIMARY KEY (tenant_id, callback_id, at, agent)
);

-- Who read or exported which caller's data, what, when, from where (NEN
-- 7513). Insert-only: no one updates it, and rows may be deleted only
-- once they are older than five years (the retention job).
CREATE TABLE audit_log (
    tenant_id  bigint NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    user_name  text NOT NULL,
    role       text NOT NULL,
    action     text NOT NULL,
    caller_key text,
    subject    text,
    peer       text,
    PRIMARY KEY (tenant_id, at, seq)
);

CREATE INDEX audit_log_caller ON audit_log (tenant_id, caller_key, at) WHERE caller_key IS NOT NULL;

CREATE FUNCTION kic_audit_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < now() - interval '5 years' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is insert-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_log_insert_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION kic_audit_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION kic_audit_guard();
