"""Partner contacts API: ``/api/v1/partner/contacts`` (mimics eEndorsements)."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from app.api.context import context, settings
from app.api.parsing import Blueprint
from app.api.responses import AUTHENTICATED, WITH_BODY, error_responses
from app.api.schemas.contacts import (
    EXAMPLE_CONTACT,
    EXAMPLE_REQUEST,
    ContactSchema,
    ContactUpsertSchema,
)
from app.services import contacts
from app.services.context import read, write

blp = Blueprint(
    "partner-contacts",
    __name__,
    url_prefix="/api/v1/partner/contacts",
    description="Partner contact upserts, matched by external_id, then by email.",
)


@blp.route("")
class Contacts(MethodView):
    @blp.arguments(ContactUpsertSchema(), example=EXAMPLE_REQUEST)
    @blp.response(
        200, ContactSchema, description="An existing contact was updated.", example=EXAMPLE_CONTACT
    )
    @blp.alt_response(
        201,
        schema=ContactSchema,
        success=True,
        description="A new contact was created.",
        example=EXAMPLE_CONTACT,
    )
    @error_responses(blp, *AUTHENTICATED, *WITH_BODY, 409)
    def post(self, data: dict):
        """Create or update a contact

        Matching, within your account: `external_id` if a contact has it, otherwise `email`
        (case-insensitive), otherwise a new contact is created (201). Fields left out keep
        their value; `null` clears `name`, `professional_id` or `external_id`. Repeating a
        request is idempotent. When `external_id` and `email` belong to two different contacts,
        they are one person: the two are merged and the survivor is returned (200).
        """
        prepared = contacts.prepare_contact(settings(), data)
        contact, created = write(context(), contacts.upsert_contact, prepared)
        return (contact, 201) if created else contact


@blp.route("/<uuid:contact_id>")
class ContactById(MethodView):
    @blp.response(200, ContactSchema, example=EXAMPLE_CONTACT)
    @error_responses(blp, *AUTHENTICATED, 404)
    def get(self, contact_id: uuid.UUID):
        """Get a contact

        404 for an unknown id, an id of another account, or a path that is not a UUID.
        """
        return read(context(), contacts.get_contact, contact_id)
