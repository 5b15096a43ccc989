"""HTTP layer: blueprints register here, after ``Api.init_app`` (flask-smorest requires it)."""

from __future__ import annotations

from flask import Flask

import flask_smorest

from app.api import contacts, docs, health


def register_blueprints(app: Flask, api: flask_smorest.Api) -> None:
    for module in (health, contacts):
        api.register_blueprint(module.blp)
    docs.init_app(app, api)
