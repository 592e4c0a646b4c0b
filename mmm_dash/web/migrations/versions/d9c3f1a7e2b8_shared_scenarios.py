"""shared scenarios and the model file they were made on

Revision ID: d9c3f1a7e2b8
Revises: c5a1d3e7f9b2
Create Date: 2026-11-25 18:00:00.000000

`shared` (private by default) lets every signed-in user read and compare a scenario; `model_sha256`
records the model file's sha256 the scenario was made on (empty for scenarios saved before), so a
scenario can say when its model file has changed since.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd9c3f1a7e2b8'
down_revision = 'c5a1d3e7f9b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scenarios', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shared', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('model_sha256', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_scenarios_shared'), ['shared'], unique=False)


def downgrade():
    with op.batch_alter_table('scenarios', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenarios_shared'))
        batch_op.drop_column('model_sha256')
        batch_op.drop_column('shared')
