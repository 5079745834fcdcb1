"""Questions and answers.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
{%- if has('mysql_database') %}
from sqlalchemy.dialects import mysql

# Microseconds kept (MySQL's DATETIME drops them by default); values are UTC.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
{%- elif has('postgresql_database') %}

TIMESTAMP = sa.DateTime(timezone=True)
{%- endif %}

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "questions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("answer_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_questions"),
    )
    op.create_index("ix_questions_created_at_id", "questions", ["created_at", "id"])
    op.create_table(
        "answers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("question_id", sa.String(36), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_answers"),
        sa.ForeignKeyConstraint(["question_id"], ["questions.id"], name="fk_answers_question_id_questions"),
    )
    op.create_index("ix_answers_question_id_created_at_id", "answers", ["question_id", "created_at", "id"])


def downgrade() -> None:
    # A table goes with its indexes (an engine may refuse to drop an index a foreign key still uses).
    op.drop_table("answers")
    op.drop_table("questions")
