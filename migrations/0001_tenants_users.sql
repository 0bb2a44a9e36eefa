-- Tenants (care organisations) and the users who speak to kicd.
-- Tokens are stored only as their SHA-256. tenants and users are small
-- lookup tables: on Citus they become reference tables; every other table
-- leads its primary key with tenant_id and is distributed by it.

CREATE TABLE tenants (
    tenant_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 256),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    tenant_id    bigint NOT NULL REFERENCES tenants,
    user_id      bigint GENERATED ALWAYS AS IDENTITY,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
    role         text NOT NULL CHECK (role IN ('bridge', 'agent', 'supervisor', 'admin')),
    agent        text CHECK (length(agent) BETWEEN 1 AND 256),
    teams        text[] NOT NULL DEFAULT '{}',
    token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    PRIMARY KEY (tenant_id, user_id)
);

-- One active user per name and tenant; revoked ones stay for the audit trail.
CREATE UNIQUE INDEX users_active_name ON users (tenant_id, name) WHERE revoked_at IS NULL;
