"""Drafts kept in the workspace (covkb.workspace): the latest of each, and every revision.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# written out, not read from covkb.store.models: a revision stays what it was when the models change
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("policy", sa.String(255), nullable=False),
        sa.Column("revision_of", sa.String(255), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("tests", Json, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("kb_digest", sa.String(64), nullable=False),
        sa.Column("findings", Json, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_drafts"),
    )
    op.create_index("ix_drafts_policy", "drafts", ["policy"])
    op.create_table(
        "draft_revisions",
        sa.Column("draft_id", sa.String(32), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("tests", Json, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("draft_id", "revision", name="pk_draft_revisions"),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"], ondelete="CASCADE",
                                name="fk_draft_revisions_draft_id_drafts"),
    )


def downgrade() -> None:
    op.drop_table("draft_revisions")
    op.drop_index("ix_drafts_policy", table_name="drafts")
    op.drop_table("drafts")
