"""Opaque pagination cursors.

A cursor is the repository's position, serialised and signed with the
``cursor-signing-key`` secret, so clients can neither read nor forge it.
"""

from __future__ import annotations

from itsdangerous import BadData, URLSafeSerializer

from ..secrets import get_secret
from ..storage import Position

SALT = "questions-cursor"


class InvalidCursorError(ValueError):
    pass


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_secret("cursor-signing-key"), salt=SALT)


def encode_cursor(position: Position) -> str:
    return _serializer().dumps(position)


def decode_cursor(cursor: str) -> Position:
    try:
        position = _serializer().loads(cursor)
    except BadData as exc:
        raise InvalidCursorError("Invalid cursor.") from exc
    if not isinstance(position, dict):
        raise InvalidCursorError("Invalid cursor.")
    return position
