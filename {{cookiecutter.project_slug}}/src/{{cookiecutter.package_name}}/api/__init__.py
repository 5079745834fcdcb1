"""HTTP API: one flask-smorest blueprint per resource, and what every route shares."""

from __future__ import annotations

import threading
from typing import Any

import flask_smorest
from apispec import APISpec
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
    """flask-smorest's Api, documenting the API only when the document is first asked for, and
    whose error responses keep the headers the error carries.

    flask-smorest documents every route as its blueprint is registered; here the blueprints and
    security schemes are recorded and documented on the first read of ``spec`` (``/openapi.json``),
    in the same order, so the document is the same and a cold start serving any other request
    does not build it.
    """

    def __init__(self, app: Flask, **kwargs: Any) -> None:
        self._spec: APISpec | None = None
        self._spec_options: dict[str, Any] = {}
        self._undocumented: list[tuple[_SmorestBlueprint, str, list[Any] | None]] = []
        self._security_schemes: dict[str, dict[str, Any]] = {}
        self._documenting = threading.RLock()
        super().__init__(app, **kwargs)
        app.url_map.converters["id"] = IdConverter
        self.register_converter(IdConverter, id_parameter_schema)

    @property
    def spec(self) -> APISpec:
        # Re-entrant: flask-smorest reads the document while it is being built; other
        # threads (make dev's server) wait until it is complete.
        with self._documenting:
            if self._spec is None:
                return self._document()
            return self._spec

    @spec.setter
    def spec(self, spec: APISpec | None) -> None:
        self._spec = spec

    def _document(self) -> APISpec:
        super()._init_spec(**self._spec_options)
        spec = self.spec  # made by flask-smorest's _init_spec
        for name, scheme in self._security_schemes.items():
            spec.components.security_scheme(name, scheme)
        for blp, name, parameters in self._undocumented:
            blp.register_views_in_doc(self, self._app, spec, name=name, parameters=parameters)
            spec.tag({"name": name, "description": blp.description})
        return spec

    def _init_spec(self, **options: Any) -> None:
        # Called by init_app; the document is built on the first read of ``spec``.
        self._spec_options = options

    def register_converter(self, converter: type[BaseConverter], func: Any) -> None:
        # The base class registers it in the document at once when there is one; it is
        # registered with the others when the document is built.
        self._converters.append((converter, func))

    def security_scheme(self, name: str, scheme: dict[str, Any]) -> None:
        """Document a security scheme (``components.securitySchemes``) when the document is built."""
        self._security_schemes[name] = scheme

    def register_blueprint(
        self, blp: _SmorestBlueprint, *, parameters: list[Any] | None = None, **options: Any
    ) -> None:
        """Register ``blp``'s routes now, and document them when the document is built."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))

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
