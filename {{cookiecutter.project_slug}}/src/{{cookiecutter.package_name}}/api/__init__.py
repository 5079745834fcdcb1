"""HTTP API: one flask-smorest blueprint per resource, and what every route shares."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Flask, request
from flask_smorest.blueprint import Blueprint as _SmorestBlueprint
from webargs.flaskparser import FlaskParser, abort
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from ..storage import ID_PATTERN

__all__ = ["MAX_JSON_DEPTH", "Api", "Blueprint", "IdConverter", "refuse_deep_json"]

# Deepest nesting of arrays and objects a JSON body may have. The API's bodies
# nest one level; Python's parser recurses per level and fails with a
# RecursionError (a 500) somewhere past 900, so depth is checked before parsing.
MAX_JSON_DEPTH = 32
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPENING, _CLOSING = frozenset(b"[{"), frozenset(b"]}")


class RequestParser(FlaskParser):
    # Invalid input is a client error like any other: 400, not webargs' 422.
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(_SmorestBlueprint):
    ARGUMENTS_PARSER = RequestParser()


class IdConverter(BaseConverter):
    """A path segment that is an id in the one form ids are made in; any other matches no route (404).

    So ``/questions/<id upper-cased>`` or with a trailing space finds nothing on
    every store, whatever the store's collation.
    """

    regex = ID_PATTERN


def id_parameter_schema(converter: BaseConverter) -> dict[str, Any]:
    return {"type": "string", "format": "uuid", "pattern": f"^{ID_PATTERN}$"}


class Api(flask_smorest.Api):
    """flask-smorest's Api, whose error responses keep the headers the error carries."""

    def __init__(self, app: Flask, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        app.url_map.converters["id"] = IdConverter
        self.register_converter(IdConverter, id_parameter_schema)

    def handle_http_exception(self, error: HTTPException) -> tuple[dict[str, Any], int, dict[str, str]]:
        """JSON, as flask-smorest writes it, with werkzeug's headers: ``Allow`` on a 405 (RFC 9110)."""
        payload, status, given = super().handle_http_exception(error)
        carried = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
        # abort()'s own headers (webargs passes None when there are none) take precedence.
        return payload, status, {**carried, **(given or {})}


def refuse_deep_json() -> None:
    """Answer 400 to a JSON body nested deeper than MAX_JSON_DEPTH, before anything parses it."""
    if request.is_json and nests_deeper(request.get_data(cache=True), MAX_JSON_DEPTH):
        abort(400, errors={"json": [f"Nested deeper than {MAX_JSON_DEPTH} levels."]})


def nests_deeper(body: bytes, limit: int) -> bool:
    """Whether the JSON in ``body`` (UTF-8, as the API reads it) nests deeper than ``limit``.

    A scan of the bytes, outside strings; valid JSON or not, it never recurses.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # too few brackets to nest that deep, counted at C speed: every ordinary body
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        elif byte in _CLOSING:
            depth -= 1
    return False
