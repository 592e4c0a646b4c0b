"""user session generation

Revision ID: a3f1c2d4e5b6
Revises: 5cd80c783191
Create Date: 2026-11-25 10:00:00.000000

A per-user counter written into the session cookie's user id: bumping it on sign-out, password,
role or active change makes every cookie issued earlier name a stale id, so it is refused.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a3f1c2d4e5b6'
down_revision = '5cd80c783191'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
