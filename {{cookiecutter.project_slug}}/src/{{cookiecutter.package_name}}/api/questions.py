"""The example resource: questions and their answers.

Replace it with your own resource: a schema module, a blueprint like this one
and a repository method per operation (see README.md).
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import current_app, request, url_for
from flask.views import MethodView
from webargs.flaskparser import abort

from .. import metrics
from ..secrets import find_secret
from ..storage import (
    Answer,
    InvalidPositionError,
    Question,
    QuestionNotFoundError,
    QuestionPage,
    QuestionRepository,
)
from . import Blueprint
from .cursor import InvalidCursorError, decode_cursor, encode_cursor
from .schemas import (
    AnswerSchema,
    NewAnswerSchema,
    NewQuestionSchema,
    QuestionDetailSchema,
    QuestionListArgsSchema,
    QuestionPageSchema,
    QuestionSchema,
)

blp = Blueprint("questions", __name__, url_prefix="/questions", description="Ask and answer questions")

# How the OpenAPI document names the admin token (``Authorization: Bearer <token>``).
ADMIN_SECURITY_SCHEME = "adminToken"


def repository() -> QuestionRepository:
    repo: QuestionRepository = current_app.extensions["repository"]()
    return repo


@blp.route("")
class Questions(MethodView):
    @blp.arguments(QuestionListArgsSchema, location="query")
    @blp.response(200, QuestionPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List questions, newest first."""
        settings = current_app.extensions["settings"]
        limit = args.get("limit", settings.default_page_size)
        try:
            after = decode_cursor(args["cursor"]) if "cursor" in args else None
            page: QuestionPage = repository().list_questions(limit=limit, after=after)
        except (InvalidCursorError, InvalidPositionError):
            # Unsigned, or signed but not a position this store reads (say, of an older version).
            abort(400, errors={"query": {"cursor": ["Invalid cursor."]}})
        next_cursor = encode_cursor(page.next_position) if page.next_position else None
        return {"items": page.items, "next_cursor": next_cursor}

    @blp.arguments(NewQuestionSchema)
    @blp.response(201, QuestionSchema)
    def post(self, body: dict[str, str]) -> tuple[Question, int, dict[str, str]]:
        """Ask a question."""
        question = repository().add_question(body["text"])
        metrics.count(metrics.QUESTIONS_CREATED)
        return question, 201, {"Location": url_for("questions.QuestionById", question_id=question.id)}


@blp.route("/<id:question_id>")
class QuestionById(MethodView):
    @blp.response(200, QuestionDetailSchema)
    def get(self, question_id: str) -> Question:
        """Read a question with its answers, oldest answer first."""
        try:
            return repository().get_question(question_id)
        except QuestionNotFoundError as exc:
            abort(404, message=str(exc))

    @blp.response(204)
    @blp.alt_response(401, description="No admin token was sent")
    @blp.alt_response(403, description="Wrong admin token, or moderation is disabled")
    @blp.doc(security=[{ADMIN_SECURITY_SCHEME: []}])
    def delete(self, question_id: str) -> None:
        """Delete a question and its answers (moderation: needs the admin token)."""
        require_admin()
        try:
            repository().delete_question(question_id)
        except QuestionNotFoundError as exc:
            abort(404, message=str(exc))
        metrics.count(metrics.QUESTIONS_DELETED)


@blp.route("/<id:question_id>/answers", methods=["POST"])
@blp.arguments(NewAnswerSchema)
@blp.response(201, AnswerSchema)
def add_answer(body: dict[str, str], question_id: str) -> tuple[Answer, int, dict[str, str]]:
    """Answer a question; its answer_count rises by exactly one."""
    try:
        answer = repository().add_answer(question_id, body["text"])
    except QuestionNotFoundError as exc:
        abort(404, message=str(exc))
    metrics.count(metrics.ANSWERS_CREATED)
    return answer, 201, {"Location": url_for("questions.QuestionById", question_id=question_id)}


def require_admin() -> None:
    """Allow the request only with ``Authorization: Bearer <admin-token>``."""
    expected = find_secret("admin-token")
    if expected is None:
        abort(403, message="Moderation is disabled: no admin token is configured.")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        abort(
            401,
            message="Send the admin token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(token.encode(), expected.encode()):
        abort(403, message="Wrong admin token.")
