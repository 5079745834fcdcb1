"""Ids compare and sort byte for byte.

{%- if has('mysql_database') %}

MySQL's and MariaDB's text collations match ids case-insensitively and
ignore trailing spaces: ``/questions/<ID upper-cased>`` found the question.
Binary strings compare byte for byte on both.
{%- elif has('postgresql_database') %}

PostgreSQL compares text exactly, but sorts it by the server's locale: the
"C" collation sorts ids byte by byte, as SQLite (``make dev``) does.
{%- endif %} SQLite's text already compares and
sorts byte for byte: nothing changes there.

Not an expand step: it changes the id columns in place{% if has('mysql_database') %}, and code from before it
reads binary ids as bytes, not text{% endif %}. It ships with 0001 in the project's first release,
so no older code ever runs on this schema. A change like it in a later release
takes two: first a new column that the code writes beside the old one, then,
once no running version reads the old column, a migration that drops it
(README.md, "Expand, then contract").

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
{%- if has('mysql_database') %}
from sqlalchemy.dialects import mysql
{%- elif has('postgresql_database') %}
from sqlalchemy.dialects import postgresql
{%- endif %}

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID_COLUMNS = (("questions", "id"), ("answers", "id"), ("answers", "question_id"))
FOREIGN_KEY = "fk_answers_question_id_questions"
{%- if has('mysql_database') %}
EXACT = mysql.VARBINARY(36)
{%- elif has('postgresql_database') %}
EXACT = postgresql.VARCHAR(36, collation="C")
{%- endif %}
BEFORE = sa.String(36)


def upgrade() -> None:
    change_ids(BEFORE, EXACT)


def downgrade() -> None:
    change_ids(EXACT, BEFORE)


def change_ids(current: sa.types.TypeEngine[Any], new: sa.types.TypeEngine[Any]) -> None:
    if op.get_context().dialect.name == "sqlite":
        return
    # The foreign key's two ends must keep the same type: drop it while they change.
    op.drop_constraint(FOREIGN_KEY, "answers", type_="foreignkey")
    for table, column in ID_COLUMNS:
        op.alter_column(table, column, existing_type=current, type_=new, existing_nullable=False)
    op.create_foreign_key(FOREIGN_KEY, "answers", "questions", ["question_id"], ["id"])
