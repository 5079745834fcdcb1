"""HTTP API: one flask-smorest blueprint per resource."""

from flask_smorest.blueprint import Blueprint as _SmorestBlueprint
from webargs.flaskparser import FlaskParser

__all__ = ["Blueprint"]


class RequestParser(FlaskParser):
    # Invalid input is a client error like any other: 400, not webargs' 422.
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(_SmorestBlueprint):
    ARGUMENTS_PARSER = RequestParser()
