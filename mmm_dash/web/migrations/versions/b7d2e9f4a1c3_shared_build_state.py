"""shared build state, model manifest, bundle store, model flags and uploads

Revision ID: b7d2e9f4a1c3
Revises: a3f1c2d4e5b6
Create Date: 2026-11-25 13:30:00.000000

Tables of mmm_dash.builder.tables: build requests and leases, live workers, the model manifest and
signed bundles, used by team deployments (a one-machine install leaves them empty); model flags
(archived, default) and uploads waiting for a worker.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7d2e9f4a1c3'
down_revision = 'a3f1c2d4e5b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bundle_builds',
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('path', sa.String(length=1000), nullable=False),
    sa.Column('requested_at', sa.Float(), nullable=False),
    sa.Column('enqueued_at', sa.Float(), server_default='0', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=True),
    sa.Column('lease_until', sa.Float(), server_default='0', nullable=False),
    sa.Column('message', sa.String(length=500), server_default='', nullable=False),
    sa.Column('progress', sa.Float(), server_default='0', nullable=False),
    sa.Column('error', sa.Text(), server_default='', nullable=False),
    sa.Column('failed', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('built_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('build_workers',
    sa.Column('owner', sa.String(length=120), nullable=False),
    sa.Column('seen_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('owner')
    )
    op.create_table('model_manifest',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('file', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('mtime_ns', sa.BigInteger(), nullable=False),
    sa.Column('meridian_version', sa.String(length=40), nullable=False),
    sa.Column('seen_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('bundle_blobs',
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('model_flags',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('archived', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('is_default', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('model_uploads',
    sa.Column('file', sa.String(length=300), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', sa.Float(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=320), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('file')
    )


def downgrade():
    op.drop_table('model_uploads')
    op.drop_table('model_flags')
    op.drop_table('bundle_blobs')
    op.drop_table('model_manifest')
    op.drop_table('build_workers')
    op.drop_table('bundle_builds')
