"""Examples for the OpenAPI document, taken from the mimicked API's own documentation."""

from __future__ import annotations

from typing import Any

CUSTOM_DATA_IN = [
    {"property": "subscription_status", "value": "active"},
    {"property": "number_of_payments", "value": 15},
    {"property": "last_paid_amount", "value": 15.99},
    {"property": "last_payment_date", "value": "1603885746"},
    {"property": "last_invoice_url", "value": "https://example.com/invoice.html"},
    {"property": "last_payment_was_successful", "value": True},
]

CREATE_EXAMPLE: dict[str, Any] = {
    "name": "John Doe",
    "email": "john.doe@example.com",
    "userId": "user_1234567890",
    "company": "Example Inc.",
    "phone": "+10233456781",
    "firstSeen": "1603885746",
    "lastSeen": "1603885746",
    "unsubscribed": False,
    "blocked": False,
    "source": "https://example.com",
    "referer": "https://example.com",
    "lastPage": "https://example.com",
    "locale": "uk",
    "createdFrom": "telegram",
    "integrationId": "465847687",
    "notes": "Lorem ipsum",
    "tags": [{"name": "vip", "color": "#ff0000"}],
    "customData": CUSTOM_DATA_IN,
}

BATCH_EXAMPLE = [{"customer": 542335, **CREATE_EXAMPLE}]

CUSTOMER_EXAMPLE: dict[str, Any] = {
    "id": 542335,
    **{k: v for k, v in CREATE_EXAMPLE.items() if k not in ("tags", "customData")},
    "location": {"regionCode": "Kyyivs'ka Oblast", "countryCode": "UA", "city": "Kyiv"},
    "device": None,
    "tags": [{"name": "vip", "color": "#ff0000"}],
    "customData": {
        "subscription_status": "active",
        "number_of_payments": 15,
        "last_paid_amount": 15.99,
        "last_payment_date": 1603885746,
        "last_invoice_url": "https://example.com/invoice.html",
        "last_payment_was_successful": True,
    },
    "createdAt": "1603885746",
    "updatedAt": "1603885746",
    "contactId": "7c3e1a2b-4d5f-6789-bcde-f01234567890",
}
