"""classification: model versions and editor labels

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("training_size", sa.Integer(), nullable=False),
        sa.Column("editor_labels", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
    )
    op.create_table(
        "editor_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=64), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("author", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_editor_labels_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editor_labels")),
        sa.UniqueConstraint("article_id", "theme", name="uq_editor_labels_article_theme"),
    )
    with op.batch_alter_table("editor_labels", schema=None) as batch_op:
        batch_op.create_index("ix_editor_labels_created_at", ["created_at"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("editor_labels", schema=None) as batch_op:
        batch_op.drop_index("ix_editor_labels_created_at")

    op.drop_table("editor_labels")
    op.drop_table("model_versions")
