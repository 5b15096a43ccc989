"""Offline API docs: Swagger UI's assets are served from the swagger-ui-bundle wheel."""

from __future__ import annotations

import swagger_ui_bundle

from flask import Blueprint, Flask, send_from_directory

import flask_smorest

from app import auth


def init_app(app: Flask, api: flask_smorest.Api) -> None:
    """Serve the UI assets under ``/docs/assets/`` and declare the security schemes."""
    assets = Blueprint("docs_assets", __name__)

    @assets.route("/docs/assets/<path:filename>")
    def asset(filename: str):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    app.register_blueprint(assets)
    for name, scheme in auth.SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
