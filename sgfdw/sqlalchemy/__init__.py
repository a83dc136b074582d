"""A foreign data wrapper over any database SQLAlchemy can reach (sgfdw.sqlalchemy).

``SqlAlchemyFdw`` is the wrapper class (``wrapper 'sgfdw.sqlalchemy.SqlAlchemyFdw'``);
``MOUNT_HANDLER`` its mount handler, ``sqlalchemy`` (mount.py).
Modules, one concern each: options, access (who may connect where), engines,
interrupts (cancel reaching the remote statement), errors, dialects (pushdown safety per
database), values (how values travel), remote_table (reflection), quals and query (the
SELECT), scan (streaming), writes, transactions, estimate, pg_types and importer
(IMPORT FOREIGN SCHEMA), mount, fdw (the class wiring them to the Multicorn API).
"""
from sgfdw.sqlalchemy.fdw import SqlAlchemyFdw
from sgfdw.sqlalchemy.mount import MOUNT_HANDLER

__all__ = ["SqlAlchemyFdw", "MOUNT_HANDLER"]
