"""Request and response schemas; they validate input and document the API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

MAX_QUESTION_LENGTH = 2000
MAX_ANSWER_LENGTH = 5000


class Text(fields.String):
    """A string that is stripped of surrounding white space and must not be blank."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise ValidationError("Must not be blank.")
        return text


class NewQuestionSchema(Schema):
    text = Text(required=True, validate=validate.Length(max=MAX_QUESTION_LENGTH))


class NewAnswerSchema(Schema):
    text = Text(required=True, validate=validate.Length(max=MAX_ANSWER_LENGTH))


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


class QuestionListArgsSchema(Schema):
    limit = fields.Integer(load_default=None, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, metadata={"description": "next_cursor of the previous page"})


class QuestionPageSchema(Schema):
    items = fields.List(fields.Nested(QuestionSchema), required=True)
    next_cursor = fields.String(
        required=True, allow_none=True, metadata={"description": "null on the last page"}
    )
