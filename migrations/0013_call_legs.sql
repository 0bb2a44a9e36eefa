-- Each agent's part of each contact (a leg: answered, ended, wrapped up),
-- as kicd derives it from all of the contact's events and wrap-ups, and
-- every state agents chose (agent.state.set).
--
-- Occupancy and agents present used to be read from agent_states alone:
-- the changes of each agent's effective state in the order kicd learned
-- them. Call events that came late (a bridge catching up) after a choice
-- the agent made meanwhile (a break during after-call work) left the
-- break cutting the ACW short, and a backlog of old calls left no
-- intervals at all; agent_states' rows of chosen states also hold kicd's
-- derived ones (an agent who never logged in is offline after a call),
-- so they cannot tell what was chosen. Reports now lay the legs (on a call from the answer
-- to the end of the part, then ACW until the wrap-up, the agent's next
-- call or logging off) over the states the agents chose, so the figures
-- follow from the facts, not from the order they arrived in.
--
-- The key starts with the call, so a call derived again replaces its
-- legs; the second index finds an agent's legs in time order.

CREATE TABLE call_legs (
    tenant_id   bigint NOT NULL,
    call_id     text COLLATE "C" NOT NULL,
    agent       text COLLATE "C" NOT NULL,
    answered_at timestamptz NOT NULL,
    end_at      timestamptz,   -- NULL while the agent is on the call
    wrapped_at  timestamptz,   -- the agent's wrap-up (its `at`)
    PRIMARY KEY (tenant_id, call_id, agent, answered_at)
) WITH (fillfactor = 90);

CREATE INDEX call_legs_agent ON call_legs (tenant_id, agent, answered_at);

-- Calls stored before this migration: their first agent's leg. (A second
-- agent's leg, after a transfer to an agent, was never stored apart.)
INSERT INTO call_legs (tenant_id, call_id, agent, answered_at, end_at, wrapped_at)
SELECT tenant_id, call_id, agent, answered_at, part_end_at, wrapped_at
FROM calls
WHERE answered AND agent IS NOT NULL AND answered_at IS NOT NULL;

-- Every state an agent chose, when (kicd's clock) and why. agent_choices
-- keeps the latest only.
CREATE TABLE agent_choice_history (
    tenant_id bigint NOT NULL,
    agent     text COLLATE "C" NOT NULL,
    since     timestamptz NOT NULL,
    state     text COLLATE "C" NOT NULL,
    reason    text,
    PRIMARY KEY (tenant_id, agent, since, state)
);

-- Before this migration the choices were kept only among agent_states'
-- rows: those of the states one chooses stand in for them (as reports
-- read them until now).
INSERT INTO agent_choice_history (tenant_id, agent, since, state, reason)
SELECT tenant_id, agent, since, state, reason
FROM agent_states
WHERE state IN ('available', 'break', 'offline')
ON CONFLICT DO NOTHING;
