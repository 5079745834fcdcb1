"""Request and response schemas; they validate input and document the API.

What the OpenAPI document says is what is checked: a text's ``maxLength``
and ``pattern`` apply to the text as sent (lengths in characters, that is
Unicode code points, as JSON Schema counts them), and the pattern is the one
the validator matches.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

MAX_QUESTION_LENGTH = 2000
MAX_ANSWER_LENGTH = 5000

CodePoints = tuple[tuple[int, int], ...]  # inclusive ranges

# Characters no text may hold: control characters other than tab, line feed and
# carriage return (NUL among them, which some databases cannot store).
FORBIDDEN: CodePoints = ((0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), (0x7F, 0x9F))
# Nor a surrogate: half of a UTF-16 pair, no character by itself. A JSON string can
# still carry one ("\ud800"), which no store can encode. The pattern leaves them
# out: validators whose strings are UTF-8 (Rust's, Go's) cannot even read one; the
# description says it instead (valid I-JSON, RFC 7493).
SURROGATES: CodePoints = ((0xD800, 0xDFFF),)
# Unicode's white space, less those control characters: all a blank text holds,
# and what is stripped from either end of a text.
WHITE_SPACE: CodePoints = (
    (0x09, 0x0A),
    (0x0D, 0x0D),
    (0x20, 0x20),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)


def character_class(ranges: CodePoints) -> str:
    """The ranges as the inside of a regular expression's character class, in ``\\uXXXX`` escapes."""
    return "".join(
        f"\\u{first:04X}" if first == last else f"\\u{first:04X}-\\u{last:04X}" for first, last in ranges
    )


# Some white space, one character that is neither white space nor forbidden, then
# anything allowed: linear to match, and read alike by Python and by ECMA-262, the
# dialect of OpenAPI's `pattern`.
TEXT_PATTERN = (
    f"^[{character_class(WHITE_SPACE)}]*"
    f"[^{character_class(FORBIDDEN + WHITE_SPACE)}]"
    f"[^{character_class(FORBIDDEN)}]*$"
)
_FORBIDDEN_CHARACTER = re.compile(f"[{character_class(FORBIDDEN + SURROGATES)}]")
TEXT_DESCRIPTION = (
    "Unicode text, without control characters other than tab, line feed and carriage return, "
    "and as valid I-JSON (RFC 7493): no unpaired surrogates. Stripped of white space at both ends."
)
_WHITE_SPACE_CHARACTERS = "".join(chr(code) for first, last in WHITE_SPACE for code in range(first, last + 1))


class TextPattern(validate.Validator):
    """``TEXT_PATTERN``, and no surrogate, with a message that says what is wrong.

    apispec documents a validator's ``regex`` as the field's ``pattern``.
    """

    regex = re.compile(TEXT_PATTERN)

    def __call__(self, value: str) -> str:
        found = _FORBIDDEN_CHARACTER.search(value)
        if found is None and self.regex.match(value) is None:
            raise ValidationError("Must not be blank.")
        if found is not None:
            raise ValidationError(
                f"Must not contain U+{ord(found.group()):04X}: no control characters other than tab, "
                "line feed and carriage return, and no unpaired surrogates."
            )
        return value


class Text(fields.String):
    """A text, checked as sent (the documented length and pattern), then stripped of end white space."""

    def __init__(self, max_length: int, **kwargs: Any) -> None:
        super().__init__(
            required=True,
            validate=[validate.Length(min=1, max=max_length), TextPattern()],
            metadata={"description": TEXT_DESCRIPTION},
            **kwargs,
        )

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any) -> Any:
        text = super().deserialize(value, attr, data, **kwargs)
        return text.strip(_WHITE_SPACE_CHARACTERS) if isinstance(text, str) else text


class NewQuestionSchema(Schema):
    text = Text(MAX_QUESTION_LENGTH)


class NewAnswerSchema(Schema):
    text = Text(MAX_ANSWER_LENGTH)


class AnswerSchema(Schema):
    id = fields.String(required=True)
    question_id = fields.String(required=True)
    text = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class QuestionSchema(Schema):
    id = fields.String(required=True)
    text = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    answer_count = fields.Integer(required=True)


class QuestionDetailSchema(QuestionSchema):
    answers = fields.List(fields.Nested(AnswerSchema), required=True)


# What itsdangerous' URL-safe serializer makes: a payload (JSON, or zlib-compressed JSON
# after a dot), a dot and the signature, each in URL-safe base64.
CURSOR_PATTERN = r"^\.?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"


class QuestionListArgsSchema(Schema):
    limit = fields.Integer(
        validate=validate.Range(min=1, max=100),
        metadata={"description": "questions per page; 20 if left out"},
    )
    cursor = fields.String(
        validate=validate.Regexp(CURSOR_PATTERN, error="Invalid cursor."),
        metadata={
            "description": "next_cursor of the previous page, as it came. Signed but not encrypted: "
            "it holds the creation time and id of that page's last question, which the page shows too."
        },
    )


class QuestionPageSchema(Schema):
    items = fields.List(fields.Nested(QuestionSchema), required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Regexp(CURSOR_PATTERN),
        metadata={"description": "null on the last page"},
    )
