"""Input bounds, declared once: the schemas and services enforce them, the spec and the README
state them. Each keeps one request from holding a database backend for long."""

from __future__ import annotations

# POST /v1/customers/search
MAX_FILTERS = 20
MAX_FILTER_TAG_NAMES = 20  # names in one `customers.tagsData` filter
MAX_FILTER_VALUE_LENGTH = 255  # characters of a text or identifier filter value
# One customer write (create, PUT, PATCH, a batch item, PUT .../tags)
MAX_TAGS_PER_WRITE = 50
MAX_TAG_NAME_LENGTH = 100
MAX_COLOR_LENGTH = 64
MAX_CUSTOM_DATA_PER_WRITE = 100  # customData properties
# Custom attributes an account may define, explicitly or on first use.
MAX_CUSTOM_ATTRIBUTES_PER_ACCOUNT = 500
# POST /v1/customers/{id}/merge
MAX_MERGE_CUSTOMERS = 10  # customers merged into one in one request
