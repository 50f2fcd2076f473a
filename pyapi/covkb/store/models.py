"""The store's tables (SQLAlchemy 2 Core), one definition for both databases.

Alembic's first revision (migrations/versions/0001_first.py) creates exactly
these; a later change of a table here comes with a revision of its own.
Times are UTC; JSON is JSON on SQLite and JSONB on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table,
                        Text)
from sqlalchemy.dialects.postgresql import JSONB

# constraint names fixed here, so that a later migration can name what it changes
metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s"})

Json = JSON().with_variant(JSONB(), "postgresql")
Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite's rowid is an INTEGER PRIMARY KEY

# one decision: CRD's (key: the coverage-assertion-id) or PAS's (key: the preauthorization reference)
decisions = Table(
    "decisions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("key", String(255), nullable=False, unique=True),
    Column("policy", String(255), nullable=False),
    Column("version", String(255), nullable=False),
    Column("kb_digest", String(64), nullable=False),
    Column("request", Json, nullable=False),
    Column("answer", Json, nullable=False),
    Column("detail", Json, nullable=True),
    Column("status", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_decisions_kind_status", "kind", "status"),
)

# a person's review of a decision (approve or deny, with the reason): one per decision
reviews = Table(
    "reviews", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("decision_id", Id, ForeignKey("decisions.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("action", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("reviewer", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# JWT ids seen (CDS Hooks): the primary key makes a replay fail in every process at once
jtis = Table(
    "jtis", metadata,
    Column("issuer", String(1024), primary_key=True),
    Column("jti", String(255), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

# registered clients (SMART Backend Services): their public keys and the scopes they may ask for
clients = Table(
    "clients", metadata,
    Column("client_id", String(255), primary_key=True),
    Column("jwks", Json, nullable=False),
    Column("scopes", Json, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# secrets every server process shares (the token endpoint's signing key): made once, by whichever asks first
secrets = Table(
    "secrets", metadata,
    Column("name", String(255), primary_key=True),
    Column("value", Json, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# an analyst's draft revision of a policy (covkb.workspace): its latest text, what its last check found, and
# the kb digest of its base when that check ran (a changed digest: checked again when next read)
drafts = Table(
    "drafts", metadata,
    Column("id", String(32), primary_key=True),
    Column("policy", String(255), nullable=False, index=True),
    Column("revision_of", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("author", String(255), nullable=False),
    Column("tests", Json, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("kb_digest", String(64), nullable=False),
    Column("findings", Json, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# every revision of every draft, as saved (the latest too): what changed between two is there to read
draft_revisions = Table(
    "draft_revisions", metadata,
    Column("draft_id", String(32), ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("text", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("author", String(255), nullable=False),
    Column("tests", Json, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# the people who log in to the web pages (covkb users add): a password hash (scrypt, its parameters in it), a role
users = Table(
    "users", metadata,
    Column("name", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# a logged-in browser: the SHA-256 of its cookie's random id (the id itself is never kept), its CSRF token, its
# end; kept here so that every server process shares it, and gone with its user
web_sessions = Table(
    "web_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_name", String(64), ForeignKey("users.name", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

# failed logins per name typed (a name nobody has too: a refusal says nothing of who exists), counted in a window
login_failures = Table(
    "login_failures", metadata,
    Column("name", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
)
