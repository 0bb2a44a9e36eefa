-- What reports read: the domain's own metric contributions (lib/metrics.h,
-- METRIC_SUMS: the column names are those of MetricSums) summed per
-- quarter hour of offer (UTC-aligned, so they compose into any time
-- zone's 15-minute, hour, day, week and month) and routing key. kicd adds
-- each call's change to its block in the same transaction as the call, so
-- these sums always equal the calls they stand for.
CREATE TABLE call_sums_15m (
    tenant_id        bigint NOT NULL,
    bucket           timestamptz NOT NULL,
    queue            text NOT NULL,
    channel          text NOT NULL,
    direction        text NOT NULL,
    offered          bigint NOT NULL DEFAULT 0,
    answered         bigint NOT NULL DEFAULT 0,
    abandoned        bigint NOT NULL DEFAULT 0,
    short_abandoned  bigint NOT NULL DEFAULT 0,
    answered_in_sl   bigint NOT NULL DEFAULT 0,
    wait_answered_us bigint NOT NULL DEFAULT 0,
    talk_n           bigint NOT NULL DEFAULT 0,
    talk_us          bigint NOT NULL DEFAULT 0,
    hold_us          bigint NOT NULL DEFAULT 0,
    acw_n            bigint NOT NULL DEFAULT 0,
    acw_us           bigint NOT NULL DEFAULT 0,
    handle_us        bigint NOT NULL DEFAULT 0,
    transferred      bigint NOT NULL DEFAULT 0,
    resolved         bigint NOT NULL DEFAULT 0,
    identified       bigint NOT NULL DEFAULT 0,
    repeated         bigint NOT NULL DEFAULT 0,
    fcr_provisional  bigint NOT NULL DEFAULT 0,
    withheld         bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, bucket, queue, channel, direction)
);
