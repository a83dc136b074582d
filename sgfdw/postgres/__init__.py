"""sgfdw.postgres: a remote PostgreSQL database as foreign tables (psycopg2).

    CREATE SERVER remote FOREIGN DATA WRAPPER sgfdw
        OPTIONS (wrapper 'sgfdw.postgres.PostgresFdw', host 'db.example', port '5432',
                 dbname 'app');
    CREATE USER MAPPING FOR CURRENT_USER SERVER remote
        OPTIONS (user 'reader', password '...');
    IMPORT FOREIGN SCHEMA public FROM SERVER remote INTO local_schema;

See README.md in this directory for the options and what is pushed down;
``MOUNT_HANDLER`` (mount.py) is its mount handler, ``postgres_fdw``.
"""
from .fdw import PostgresFdw
from .mount import MOUNT_HANDLER

__all__ = ["PostgresFdw", "MOUNT_HANDLER"]
