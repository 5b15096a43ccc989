"""The sweep: find and merge the people the write path left split (see ``identity/sweep.py``
for the rule). Finding reads the account's phone blocks on one short connection; merging
takes the write path's row locks, a batch of groups per transaction, re-checks every link on
the locked rows and merges with the same code as every merge (recorded with rule
``phone_name``). A group that changed meanwhile is left for the next run; stopping between
(or inside) batches leaves nothing half done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg

from app import identity
from app.identity import Identifier, Kind, Match, Rule
from app.identity.sweep import Group, SweepPlan, plan_sweep, similarity
from app.repositories import distinct_profiles
from app.repositories import merges as merge_rows
from app.repositories import sweep as repo
from app.services import merges
from app.services.context import Context, read, write

NAMES_CHUNK = 5_000  # profile ids per statement when reading names
BATCH = 200  # groups merged per transaction (a dozen statements whatever the size)
MAX_PASSES = 5


@dataclass
class Summary:
    """What one sweep of one account did."""

    scanned: int = 0  # live profiles of the account
    compared: int = 0  # profiles holding a phone others hold too
    blocks: int = 0  # phones compared
    skipped_blocks: int = 0  # phones shared too widely
    groups: list[Group] = field(default_factory=list)  # found
    merges: int = 0  # done (profiles merged away)
    skipped_groups: int = 0  # changed before they could be merged: left for the next run
    seconds: float = 0.0
    # Stopped after MAX_PASSES passes, the last of which merged: a next run may find more.
    unfinished: bool = False


def find(
    conn: psycopg.Connection, ctx: Context, around: Sequence[int] | None = None
) -> tuple[SweepPlan, int, int]:
    """The groups to merge, with the account's live profiles and those compared; with
    ``around``, only among the holders of those profiles' phones (and the live profiles not
    counted: a later pass reports none)."""
    account_id, settings = ctx.account_id, ctx.settings
    if around is None:
        blocks = repo.phone_blocks(conn, account_id)
    else:
        blocks = repo.phone_blocks_of(conn, account_id, around)
    ids = sorted({pid for _, holders in blocks for pid in holders})
    profiles = {}
    for start in range(0, len(ids), NAMES_CHUNK):
        profiles.update(repo.names_of(conn, account_id, ids[start : start + NAMES_CHUNK]))
    plan = plan_sweep(
        blocks,
        profiles,
        threshold=settings.threshold,
        shared_limit=settings.shared_limit,
        distinct=distinct_profiles.all_pairs(conn, account_id),
    )
    return plan, repo.live_count(conn, account_id) if around is None else 0, len(ids)


def merge_groups(
    conn: psycopg.Connection, ctx: Context, groups: Sequence[Group]
) -> tuple[int, int, list[int]]:
    """Merge these groups (row-locked in id order, re-checked); (merges done, groups skipped,
    survivors)."""
    account_id = ctx.account_id
    ids = sorted({pid for g in groups for pid in g.members})
    live = merge_rows.lock_profiles(conn, account_id, ids)
    facts = merge_rows.load_facts(conn, account_id, [pid for pid in ids if live.get(pid)])
    distinct = distinct_profiles.among(conn, account_id, list(facts))
    planned, skipped = [], 0
    for group in groups:
        matches = _still_one_person(ctx, group, facts, distinct)
        if matches is None:
            skipped += 1
            continue
        profiles = [facts[pid].profile for pid in group.members]
        plan = identity.plan_merge(profiles, matches)
        planned.append(merges.PlannedMerge(plan, {pid: facts[pid] for pid in group.members}))
    survivors = merges.apply_many(conn, ctx, planned)
    return sum(len(p.plan.merged) for p in planned), skipped, survivors


def _still_one_person(
    ctx: Context, group: Group, facts: dict[int, merge_rows.Facts], distinct: set
) -> list[Match] | None:
    """The group's matches if every member is live and every link still holds on the locked
    rows (phone held by both, names similar enough, not a distinct pair); else ``None``."""
    if not all(pid in facts for pid in group.members):
        return None
    if any(pair <= set(group.members) for pair in distinct):
        return None
    best: dict[int, Match] = {}
    for link in group.links:
        a, b = facts[link.a].profile, facts[link.b].profile
        phone = _phone(a, link.phone)
        if phone is None or _phone(b, link.phone) is None:
            return None
        score = similarity(a, b)
        if score < ctx.settings.threshold:
            return None
        for pid in (link.a, link.b):
            if pid not in best or (best[pid].score or 0) < score:
                best[pid] = Match(pid, Rule.PHONE_NAME, phone, score)
    return [best[pid] for pid in group.members]


def _phone(profile: identity.Profile, norm: str) -> Identifier | None:
    return next((i for i in profile.identifiers if i.kind is Kind.PHONE and i.norm == norm), None)


def sweep(
    ctx: Context,
    *,
    dry_run: bool = False,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Summary:
    """Sweep one account: find, then (unless ``dry_run``) merge batch by batch, reporting
    ``progress(groups done, groups found)`` after each batch; then again, until a pass finds
    nothing (a merged person holds every phone and name of its parts, so it may link to a
    profile none of its parts linked to), at most ``MAX_PASSES`` times.

    ``jobs`` batches are merged at once, each in its own transaction on its own connection:
    the groups of one pass share no profile (each is a connected set of phone links), so
    concurrent batches lock disjoint rows, and what races anyway (a write of the API, a lock
    taken without waiting) is retried as every write is.
    """
    started = clock()
    summary = Summary()
    survivors: list[int] | None = None  # after the first pass: only around its merges
    for passes in range(MAX_PASSES):
        plan, scanned, compared = read(ctx, find, survivors)
        if passes == 0:
            summary = Summary(scanned, compared, plan.blocks, plan.skipped_blocks)
        summary.groups.extend(plan.groups)
        if dry_run or not plan.groups:
            break
        merged_before = summary.merges
        survivors = _merge_batches(ctx, plan.groups, summary, jobs, progress)
        if summary.merges == merged_before:
            break
    else:
        summary.unfinished = True
    summary.seconds = clock() - started
    return summary


def _merge_batches(
    ctx: Context,
    groups: Sequence[Group],
    summary: Summary,
    jobs: int,
    progress: Callable[[int, int], None] | None,
) -> list[int]:
    """Merge ``groups`` in batches, ``jobs`` transactions at a time; the survivors.

    Stopping (an exception, Ctrl-C) cancels the batches not started; those running finish
    (commit or roll back) before it propagates.
    """
    batches = [groups[start : start + BATCH] for start in range(0, len(groups), BATCH)]
    survivors: list[int] = []
    # Never more at once than the pool lends: a job waiting out DB_POOL_TIMEOUT would fail.
    pool_size = ctx.database.config["DB_POOL_MAX_SIZE"] if ctx.database is not None else 1
    executor = ThreadPoolExecutor(max(1, min(jobs, pool_size)), thread_name_prefix="sweep")
    try:
        done_groups = 0
        for batch, (done, skipped, kept) in zip(
            batches, executor.map(lambda b: write(ctx, merge_groups, b), batches), strict=True
        ):
            survivors.extend(kept)
            summary.merges += done
            summary.skipped_groups += skipped
            done_groups += len(batch)
            if progress is not None:
                progress(done_groups, len(groups))
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return survivors
