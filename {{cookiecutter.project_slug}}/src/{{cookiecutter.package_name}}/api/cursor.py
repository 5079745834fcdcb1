"""Pagination cursors: the repository's position, signed.

A cursor is the position as JSON (zlib-compressed when that is shorter), in
URL-safe base64, signed with the ``cursor-signing-key`` secret: clients cannot
forge one, but can read it. It holds nothing a page does not show (the
creation time and id of the page's last question), so it is signed, not
encrypted. What a well-signed cursor holds is checked by the repository it
goes back to (``InvalidPositionError``).
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
