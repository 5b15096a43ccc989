"""Our Blueprint's ``alt_response`` documents as flask-smorest's does, without its run-time
wrapper (``app/api/parsing.py``)."""

from __future__ import annotations

import flask_smorest

from app.api.parsing import Blueprint

ours = Blueprint("ours", __name__)
theirs = flask_smorest.Blueprint("theirs", __name__)


def view(x: int, *, y: int = 2) -> int:
    """A view."""
    return x + y


def responses(func) -> dict:
    return func._apidoc["response"]["responses"]


def test_the_documentation_is_flask_smorests():
    documented = {
        blp.name: blp.alt_response(404, response="NOT_FOUND")(
            blp.alt_response(201, description="Created", success=True)(view)
        )
        for blp in (ours, theirs)
    }
    assert documented["ours"]._apidoc == documented["theirs"]._apidoc
    assert set(responses(documented["ours"])) == {201, 404}
    assert documented["ours"]._apidoc["success_status_codes"] == [201]
    assert documented["ours"].__name__ == "view" and documented["ours"].__doc__ == "A view."


def test_no_wrapper_runs_the_view_is_called_directly():
    documented = ours.alt_response(404, response="NOT_FOUND")(view)
    assert documented.__code__ is view.__code__  # no wrapper frame between the route and it
    assert documented(1) == 3 and documented(1, y=5) == 6


def test_the_decorated_function_is_left_as_it_was():
    # As with flask-smorest's wrapper: decorating one function twice gives two views, each
    # documenting its own status, and the function itself documents none.
    first = ours.alt_response(404, response="NOT_FOUND")(view)
    second = ours.alt_response(409, response="CONFLICT")(view)
    assert first is not second and not hasattr(view, "_apidoc")
    assert set(responses(first)) == {404} and set(responses(second)) == {409}
