"""Who may make the FDW connect where: postgres_fdw's ``password_required`` rule.

The FDW connects from a backend, that is as the server's OS user: libpq reads that
user's files (``~/.pgpass``, client keys and certificates, service files), and the
remote's trust, peer, ident or GSS authentication would accept the connection as any
remote role it names. A superuser may use all of that (it is theirs anyway); a
non-superuser may only bring a credential of their own:

* before connecting, the user mapping must give a non-empty ``password`` and none of
  the libpq options that read files or choose the target (:data:`SUPERUSER_ONLY`) --
  checking only that libpq used *a* password would accept one read from a passfile;
* after connecting, the remote's authentication must have used that password.

Who is asking (a superuser or not) is sgfdw.remote.identity's answer.
"""
from __future__ import annotations

from typing import Mapping

from sgfdw.errors import InsufficientPrivilege

from .connection import RemoteConnection

__all__ = ["SUPERUSER_ONLY", "refuse_reserved_options", "check_user_mapping",
           "check_password_used", "open_checked"]

# libpq options that read the server's files or pick the remote server and database:
# the server's options (set by its owner) decide these, not a non-superuser's mapping.
# (libpq 15 knows no "servicefile" keyword: the option names check refuses it anyway.)
SUPERUSER_ONLY = frozenset({
    "passfile", "sslkey", "sslcert", "sslrootcert", "sslcrl", "sslcrldir", "service",
    "host", "hostaddr", "port", "dbname",
})


def refuse_reserved_options(mapping: Mapping[str, str]) -> None:
    """Refuse a non-superuser's user mapping an option of :data:`SUPERUSER_ONLY`."""
    refused = sorted(SUPERUSER_ONLY & set(mapping))
    if refused:
        names = ", ".join(f'"{name}"' for name in refused)
        raise InsufficientPrivilege(
            f"user mapping option {names} is for superusers only",
            detail="It would read files of the database server's operating system user "
                   "or choose another remote server or database.",
            hint="Remove it from the user mapping; a superuser can set the connection "
                 "target on the server.")


def check_user_mapping(mapping: Mapping[str, str], superuser: bool) -> None:
    """Refuse a non-superuser a user mapping that brings no password of its own or sets
    an option reserved to superusers (before any connection is made)."""
    if superuser:
        return
    refuse_reserved_options(mapping)
    if not mapping.get("password"):
        raise InsufficientPrivilege(
            "password is required",
            detail="Non-superusers must provide a password in the user mapping.",
            hint="Add OPTIONS (password '...') to the user mapping.")


def check_password_used(conn: RemoteConnection, superuser: bool) -> None:
    """Refuse a non-superuser a connection the remote server made without asking for
    the password (trust or peer authentication of the server's OS user)."""
    if superuser or conn.used_password:
        return
    raise InsufficientPrivilege(
        "password is required",
        detail="Non-superusers must connect with a password the remote server asks for.",
        hint="Make the remote server ask for the password of the user mapping's user.")


def open_checked(conn: RemoteConnection, superuser: bool) -> RemoteConnection:
    """``conn``, opened if it is not, once its authentication passed the check above
    (every time: a connection may be shared with a superuser's, or reopened)."""
    conn.ensure_open()
    check_password_used(conn, superuser)
    return conn
