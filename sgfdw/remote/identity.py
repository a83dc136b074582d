"""Who a remote connection is made for: the local user, and whether it is a superuser.

Why a shared module: every wrapper over a remote source must apply postgres_fdw's rule
that a non-superuser reaches only the target the server's owner chose, with a password
of its own user mapping that the remote actually asks for (else the server's OS user,
trusted by local trust / peer authentication, would act for anyone). Asking the
catalogs here keeps the wrappers from each answering "who is asking" differently.

The bridge builds one FDW instance per foreign table and local user (SET ROLE and
SECURITY DEFINER functions change that user), so an instance may decide this once.
"""
from __future__ import annotations

from sgfdw import pg

__all__ = ["is_superuser"]


def is_superuser() -> bool:
    """Whether the current local user (current_user) is a superuser. True outside a
    backend: there is no local user to protect the server from."""
    if not pg.in_backend():
        return True
    rows = pg.execute("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user")
    return bool(rows and rows[0][0])
