-- purge_expired --
-- Lazy cleanup before a claim: up to 100 of the account's answers past their expiry (they
-- never replay). Rows another transaction holds are skipped, never waited for.
DELETE FROM idempotency_keys
WHERE account_id = %(account_id)s AND key IN (
    SELECT key FROM idempotency_keys
    WHERE account_id = %(account_id)s AND expires_at <= now()
    ORDER BY expires_at
    LIMIT 100
    FOR UPDATE SKIP LOCKED);

-- claim --
-- Claim the key for this request: a new key, an expired row, or a claim of the same request
-- left running longer than the takeover bound (its worker died) becomes ours. Otherwise
-- nothing is returned, and the conflicting row stays locked by this transaction.
INSERT INTO idempotency_keys AS k
    (account_id, key, fingerprint, token, state, claimed_at, created_at, expires_at)
VALUES (%(account_id)s, %(key)s, %(fingerprint)s, %(token)s, 'running', now(), now(),
        now() + %(ttl)s::interval)
ON CONFLICT (account_id, key) DO UPDATE
SET fingerprint = EXCLUDED.fingerprint, token = EXCLUDED.token, state = 'running',
    claimed_at = now(), created_at = now(), expires_at = EXCLUDED.expires_at,
    status = NULL, headers = NULL, body = NULL, profile_ids = '{}'
WHERE k.expires_at <= now()
   OR (k.state = 'running' AND k.fingerprint = EXCLUDED.fingerprint
       AND k.claimed_at <= now() - %(stale_after)s::interval)
RETURNING token;

-- find --
-- The row that kept a claim from succeeding (locked by the claim statement before it).
SELECT fingerprint, state, status, headers, body FROM idempotency_keys
WHERE account_id = %(account_id)s AND key = %(key)s;

-- resolve_described --
-- The profiles an answer describes, named by id or by contact UUID, each with the live
-- profile it stands for (a tombstone stands for its survivor).
SELECT id, contact_id, coalesce(merged_into, id) AS live_id FROM profiles
WHERE account_id = %(account_id)s
  AND (id = ANY(%(ids)s::bigint[]) OR contact_id = ANY(%(contact_ids)s::uuid[]));

-- lock_live --
-- Key-share lock on those live profiles, in id order. Erasure row-locks the live profile
-- first: it either waits for this store (and then deletes what it stored), or has removed the
-- profiles before this lock is granted (and the answer is not stored).
SELECT id, merged_into IS NULL AS live FROM profiles
WHERE account_id = %(account_id)s AND id = ANY(%(ids)s::bigint[])
ORDER BY id
FOR KEY SHARE;

-- store --
-- The claimant's answer; the profile ids are the described ones, their live profiles and
-- those profiles' tombstones (an unmerge may later make one of them a person of its own).
UPDATE idempotency_keys
SET state = 'done', status = %(status)s, headers = %(headers)s, body = %(body)s,
    profile_ids = ARRAY(
        SELECT unnest(%(ids)s::bigint[])
        UNION
        SELECT id FROM profiles
        WHERE account_id = %(account_id)s AND merged_into = ANY(%(ids)s::bigint[])
        ORDER BY 1)
WHERE account_id = %(account_id)s AND key = %(key)s AND token = %(token)s
  AND state = 'running'
RETURNING key;

-- release --
-- Give the key up (the answer is not one to replay): a retry acts.
DELETE FROM idempotency_keys
WHERE account_id = %(account_id)s AND key = %(key)s AND token = %(token)s
  AND state = 'running';

-- forget_person --
-- Erasure (the live profile is row-locked already): the stored answers that describe the
-- person, by any of its ids, tombstones included.
DELETE FROM idempotency_keys
WHERE account_id = %(account_id)s
  AND profile_ids && ARRAY(
      SELECT id FROM profiles
      WHERE account_id = %(account_id)s AND (id = %(id)s OR merged_into = %(id)s))
RETURNING key;
