-- Idempotent retries: the first answer to a write sent with an `Idempotency-Key` header, kept
-- per account for IDEMPOTENCY_TTL_HOURS so that a retry gets that answer instead of acting
-- twice. A row is first a claim (`running`: the request is being served), then the stored
-- answer (`done`). `profile_ids` are the profiles the answer describes (with their tombstones
-- at the time), so that erasing a person deletes the answers about them.
CREATE TABLE idempotency_keys (
    account_id  bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key         text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the method, path, query string and body bytes: the same key with another
    -- request is refused.
    fingerprint bytea       NOT NULL CHECK (length(fingerprint) = 32),
    -- The claimant: only the request holding this token may store or release the row.
    token       uuid        NOT NULL,
    state       text        NOT NULL CHECK (state IN ('running', 'done')),
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    status      smallint,
    headers     jsonb,
    body        bytea,
    profile_ids bigint[]    NOT NULL DEFAULT '{}',
    PRIMARY KEY (account_id, key),
    CHECK ((state = 'done') = (status IS NOT NULL AND headers IS NOT NULL AND body IS NOT NULL))
);
-- Erasure: the answers whose profile ids overlap the erased person's ids.
CREATE INDEX idempotency_keys_profile_ids ON idempotency_keys USING gin (profile_ids);
-- Lazy cleanup: an account's expired answers, oldest first.
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (account_id, expires_at);
