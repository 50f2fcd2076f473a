"""The first schema: decisions and their reviews, JWT ids seen, registered clients.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# written out, not read from covkb.store.models: a revision stays what it was when the models change
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("policy", sa.String(255), nullable=False),
        sa.Column("version", sa.String(255), nullable=False),
        sa.Column("kb_digest", sa.String(64), nullable=False),
        sa.Column("request", Json, nullable=False),
        sa.Column("answer", Json, nullable=False),
        sa.Column("detail", Json, nullable=True),
        sa.Column("status", sa.String(64), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.UniqueConstraint("key", name="uq_decisions_key"),
    )
    op.create_index("ix_decisions_kind_status", "decisions", ["kind", "status"])
    op.create_table(
        "reviews",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("decision_id", Id, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("reviewer", sa.String(255), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
        sa.UniqueConstraint("decision_id", name="uq_reviews_decision_id"),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"], ondelete="CASCADE",
                                name="fk_reviews_decision_id_decisions"),
    )
    op.create_table(
        "jtis",
        sa.Column("issuer", sa.String(1024), nullable=False),
        sa.Column("jti", sa.String(255), nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti", name="pk_jtis"),
    )
    op.create_index("ix_jtis_expires_at", "jtis", ["expires_at"])
    op.create_table(
        "clients",
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("jwks", Json, nullable=False),
        sa.Column("scopes", Json, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_clients"),
    )


def downgrade() -> None:
    op.drop_table("clients")
    op.drop_index("ix_jtis_expires_at", table_name="jtis")
    op.drop_table("jtis")
    op.drop_table("reviews")
    op.drop_index("ix_decisions_kind_status", table_name="decisions")
    op.drop_table("decisions")
