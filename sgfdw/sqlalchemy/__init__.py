"""A foreign data wrapper over any database SQLAlchemy can reach (sgfdw.sqlalchemy).

``SqlAlchemyFdw`` is the wrapper class (``wrapper 'sgfdw.sqlalchemy.SqlAlchemyFdw'``);
``MOUNT_HANDLER`` is the (name, wrapper) pair sgfdw.hooks.mount_handlers registers.
Modules, one concern each: options, access (who may connect where), engines,
interrupts (cancel reaching the remote statement), errors, dialects (pushdown safety per
database), values (how values travel), remote_table (reflection), quals and query (the
SELECT), scan (streaming), writes, transactions, estimates, pg_types and importer
(IMPORT FOREIGN SCHEMA), fdw (the class wiring them to the Multicorn API).
"""
from sgfdw.sqlalchemy.fdw import SqlAlchemyFdw

__all__ = ["SqlAlchemyFdw", "MOUNT_HANDLER"]

#: The mount handler: name and wrapper class. Handler keyword arguments map to options:
#: db_url (alias url; a password in it moves to the user mapping), fetch_size,
#: batch_size, create_database -> server options; user/username, password -> user
#: mapping; other arguments are refused; schema -> the remote schema imported
#: ("default" when absent) and, for explicitly described tables, the table options
#: tablename (the table's name) and schema.
MOUNT_HANDLER = ("sqlalchemy", "sgfdw.sqlalchemy.SqlAlchemyFdw")
