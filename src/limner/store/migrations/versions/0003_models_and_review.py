"""Registered models (assistants) and the review workflow: overlap, ground truth, per-shape review.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# -- registered models (assist) ------------------------------------------------------------------

def _upgrade_models() -> None:
    from sqlalchemy.dialects import postgresql

    op.create_table(
        "models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("config", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "name"),
    )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_models_project_id"), ["project_id"], unique=False)


def _downgrade_models() -> None:
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_models_project_id"))
    op.drop_table("models")


# -- review workflow (quality) -------------------------------------------------------------------

_REVIEW_COLUMNS = (
    ("projects", sa.Column("overlap", sa.Integer(), nullable=False, server_default="1")),
    ("projects", sa.Column("ground_truth_rate", sa.Float(), nullable=False, server_default="0")),
    ("projects", sa.Column("retrain_threshold", sa.Float(), nullable=False, server_default="0.8")),
    ("tasks", sa.Column("overlap", sa.Integer(), nullable=True)),
    ("assets", sa.Column("ground_truth_owner", sa.String(200), nullable=True)),
    ("annotations", sa.Column("state", sa.String(20), nullable=False, server_default="draft")),
    ("annotations", sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True)),
)


def _upgrade_review() -> None:
    for table, column in _REVIEW_COLUMNS:
        op.add_column(table, column)
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("annotation_id", sa.Integer(), sa.ForeignKey("annotations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("shape", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_reviews_annotation", "reviews", ["annotation_id", "revision", "shape"])


def _downgrade_review() -> None:
    op.drop_index("ix_reviews_annotation", table_name="reviews")
    op.drop_table("reviews")
    for table, column in reversed(_REVIEW_COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column.name)


def upgrade() -> None:
    _upgrade_models()
    _upgrade_review()


def downgrade() -> None:
    _downgrade_review()
    _downgrade_models()
