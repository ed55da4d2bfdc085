-- Rate limits kept in the database, so that they hold for the whole platform whatever the
-- number of portal instances, and cost the process no memory: one row per limit, key (its
-- SHA-256: a 15 KB e-mail field costs 64 characters) and minute, counting the attempts of that
-- minute; rows older than two minutes are deleted by the portal's ticker.
CREATE TABLE rate_limits (
    bucket TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (bucket, key_hash, window_start)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);
