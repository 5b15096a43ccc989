-- lock_identifiers --
-- Serialize writers on normalized identifiers: transaction-scoped advisory locks, taken in
-- the order of the (pre-sorted) keys so that two writers never wait on each other in a cycle.
-- It also gives the rest of the write transaction generic plans: its statements look rows up
-- by ids and arrays, and planning the lookup anew cost more than running it.
-- And it reserves `reserve` ids for profiles the write may create (one per write that finds
-- its person by identifiers; the service-wide sequence, never reused): drawn here, they cost
-- no statement and no round trip of their own once the lookup has told which writes create.
-- An id not used is a gap in the sequence, as a rolled-back insert leaves one.
SELECT set_config('plan_cache_mode', 'force_generic_plan', true),
       (SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%(keys)s::bigint[]) AS k),
       -- unnest, not generate_series: its row estimate (10, not 1,000) keeps this statement on
       -- a generic plan, not planned again at every write.
       ARRAY(SELECT nextval('profiles_id_seq')
             FROM unnest(array_fill(0, ARRAY[%(reserve)s::integer]))) AS ids;
