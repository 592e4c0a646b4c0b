"""Celery's prefork pool forks a build child from a worker whose housekeeping thread holds pooled
database connections: the child must open its own, not talk on its parent's sockets."""

from __future__ import annotations

import os

import sqlalchemy as sa

from mmm_dash.builder.tables import engine_for


def test_a_forked_child_starts_with_an_empty_pool_and_the_parent_keeps_its_own(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'fork.sqlite3'}")
    with engine.connect() as conn:
        conn.execute(sa.select(sa.literal(1)))
    assert engine.pool.checkedin() == 1
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what its pool holds, then leave without running pytest's exit hooks
        os.write(write_end, str(engine.pool.checkedin()).encode())
        os._exit(0)
    os.close(write_end)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert os.read(read_end, 16) == b"0"
    os.close(read_end)
    assert engine.pool.checkedin() == 1
