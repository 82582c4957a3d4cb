"""Index assets by (project_id, id) so a page of a project's assets is read in order, not sorted.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_assets_project_id", "assets", ["project_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_assets_project_id", table_name="assets")
