"""Schemas of the identity tools: manual merge and its preview, unmerge, distinct pairs."""

from __future__ import annotations

import marshmallow as ma

from app import bounds
from app.api.schemas.common import BaseSchema
from app.api.schemas.customers import CustomerSchema, LocationOutSchema
from app.api.schemas.extras import page_of
from app.api.schemas.fields import TimestampString, WholeNumber
from app.identity import Rule


def _api_names() -> dict[str, str]:
    """Profile column -> the customer object's key for it (``location.city`` for nested)."""
    names = {f.attribute or key: key for key, f in CustomerSchema().fields.items()}
    for key, f in LocationOutSchema().fields.items():
        names[f.attribute or key] = f"location.{key}"
    return names


API_NAMES = _api_names()


class MergeRequestSchema(BaseSchema):
    customers = ma.fields.List(
        WholeNumber(),
        required=True,
        validate=ma.validate.Length(min=1, max=bounds.MAX_MERGE_CUSTOMERS),
        metadata={
            "description": f"Ids of the customers to merge into this one (1 to "
            f"{bounds.MAX_MERGE_CUSTOMERS}); merged-away ids stand for their survivor."
        },
    )


class MergeArgsSchema(BaseSchema):
    dryRun = ma.fields.Boolean(
        load_default=False,
        data_key="dryRun",
        attribute="dry_run",
        metadata={"description": "Write nothing; answer what the merge would produce."},
    )


class MovesSchema(BaseSchema):
    customer = ma.fields.Integer(required=True)
    identifiers = ma.fields.List(
        ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String()), required=True
    )
    tags = ma.fields.List(ma.fields.String(), required=True)
    customDataKeys = ma.fields.List(ma.fields.String(), required=True, attribute="custom_data_keys")
    events = ma.fields.Integer(required=True)


class RuleVerdictSchema(BaseSchema):
    customer = ma.fields.Integer(required=True)
    rule = ma.fields.String(
        required=True,
        allow_none=True,
        validate=ma.validate.OneOf([str(r) for r in Rule]),
        metadata={"description": "The rule that would merge the pair automatically, if any."},
    )
    score = ma.fields.Float(required=True, allow_none=True)
    reason = ma.fields.String(required=True)


class MergePreviewSchema(BaseSchema):
    customer = ma.fields.Nested(
        CustomerSchema,
        required=True,
        metadata={"description": "The customer the merge would leave."},
    )
    survivor = ma.fields.Integer(required=True)
    merged = ma.fields.List(ma.fields.Integer(), required=True)
    fields = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(allow_none=True),
        required=True,
        attribute="field_sources",
        metadata={"description": "For each field, the customer whose value the merge keeps."},
    )
    customData = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        required=True,
        attribute="custom_data_sources",
        metadata={"description": "For each customData property, the customer it comes from."},
    )
    moves = ma.fields.List(ma.fields.Nested(MovesSchema), required=True)
    rules = ma.fields.List(ma.fields.Nested(RuleVerdictSchema), required=True)


class UnmergeRequestSchema(BaseSchema):
    customer = WholeNumber(
        required=True,
        metadata={"description": "The id of the customer merged into this one to restore."},
    )


class UnmergedSchema(BaseSchema):
    survivor = ma.fields.Nested(
        CustomerSchema, required=True, metadata={"description": "This customer, after."}
    )
    restored = ma.fields.Nested(
        CustomerSchema, required=True, metadata={"description": "The customer restored."}
    )


class DistinctSchema(BaseSchema):
    customer = ma.fields.Nested(
        CustomerSchema,
        required=True,
        metadata={"description": "A customer known to be another person than this one."},
    )
    since = TimestampString(required=True, metadata={"description": "When it became known."})


DistinctPageSchema = page_of(DistinctSchema, "DistinctPageSchema")


class StatsArgsSchema(BaseSchema):
    days = WholeNumber(
        load_default=30,
        validate=ma.validate.Range(min=1, max=366),
        metadata={"description": "How many days (UTC, today included) `merges.daily` covers."},
    )


class RuleCountSchema(BaseSchema):
    count = ma.fields.Integer(required=True)
    undone = ma.fields.Integer(required=True, metadata={"description": "Of them, unmerged."})


_RULES = ("external_id", "email", "phone_name", "manual", "unmerge")


class DayCountSchema(BaseSchema):
    day = ma.fields.String(required=True, metadata={"description": "A UTC date, YYYY-MM-DD."})
    byRule = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(_RULES)),
        values=ma.fields.Integer(),
        required=True,
    )


class MergeStatsSchema(BaseSchema):
    byRule = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(_RULES)),
        values=ma.fields.Nested(RuleCountSchema),
        required=True,
        metadata={"description": "All time, per rule (`unmerge`: unmerges done)."},
    )
    days = ma.fields.Integer(required=True)
    daily = ma.fields.List(
        ma.fields.Nested(DayCountSchema),
        required=True,
        metadata={"description": "Days with merges only, oldest first."},
    )


class ProfileStatsSchema(BaseSchema):
    live = ma.fields.Integer(required=True, metadata={"description": "People (live profiles)."})
    merged = ma.fields.Integer(required=True, metadata={"description": "Merged-away ids."})


class SharedPhoneStatsSchema(BaseSchema):
    phones = ma.fields.Integer(
        required=True,
        metadata={"description": "Phones several live profiles hold (the rules left them apart)."},
    )
    profiles = ma.fields.Integer(required=True, metadata={"description": "Profiles holding them."})
    overLimit = ma.fields.Integer(
        required=True,
        metadata={"description": "Of those phones, the ones held by more than `limit` profiles."},
    )
    limit = ma.fields.Integer(required=True, metadata={"description": "PHONE_SHARED_LIMIT."})


class IdentityStatsSchema(BaseSchema):
    profiles = ma.fields.Nested(ProfileStatsSchema, required=True)
    merges = ma.fields.Nested(MergeStatsSchema, required=True)
    sharedPhones = ma.fields.Nested(SharedPhoneStatsSchema, required=True)
    placeholders = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        required=True,
        metadata={"description": "Placeholder values stored (never matched), by kind."},
    )
    distinctPairs = ma.fields.Integer(
        required=True, metadata={"description": "Pairs known to be two people."}
    )
