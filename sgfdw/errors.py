"""Exceptions that carry a PostgreSQL SQLSTATE (psycopg 3 style).

How the C bridge reports a Python exception raised by an FDW (any exception, not only
these classes):

* message  -- ``str(exc)``;
* SQLSTATE -- the exception's ``sqlstate`` attribute, else its ``pgcode`` attribute
  (psycopg2's name), if it is a valid five-character SQLSTATE (see :func:`sqlstate_of`);
  otherwise the bridge picks one by exception class (HV000 fdw_error by default);
* ``hint`` and ``detail`` attributes (str or None) become HINT and DETAIL;
* ``fatal`` attribute true -> the error is reported at FATAL level (ends the session).

Raise these from an FDW (or use ``multicorn.utils.log_to_postgres(..., ERROR)``), e.g.::

    raise OptionError('option "url" is required', hint="Add OPTIONS (url '...').")
"""

from __future__ import annotations

# The root class is the API's: what multicorn.utils.log_to_postgres raises at ERROR.
from multicorn.utils import FdwError, is_valid_sqlstate

__all__ = [
    "FdwError",
    "WrapperNotFound",
    "OptionError",
    "DataError",
    "NumericValueOutOfRange",
    "InvalidTextRepresentation",
    "FeatureNotSupported",
    "ConnectionFailure",
    "QueryCanceled",
    "InsufficientPrivilege",
    "UndefinedTable",
    "is_valid_sqlstate",
    "sqlstate_of",
]


class WrapperNotFound(FdwError):
    """The ``wrapper`` option names a module or class that cannot be imported (undefined_object)."""

    sqlstate = "42704"


class OptionError(FdwError):
    """A missing, unknown or invalid FDW option (fdw_invalid_option_name)."""

    sqlstate = "HV00D"


class DataError(FdwError):
    """A value cannot be used (data_exception)."""

    sqlstate = "22000"


class NumericValueOutOfRange(DataError):
    """A number does not fit the column's type (numeric_value_out_of_range)."""

    sqlstate = "22003"


class InvalidTextRepresentation(DataError):
    """A text value cannot be read as the column's type (invalid_text_representation)."""

    sqlstate = "22P02"


class FeatureNotSupported(FdwError):
    """The FDW does not support the requested operation (feature_not_supported)."""

    sqlstate = "0A000"


class ConnectionFailure(FdwError):
    """The remote system cannot be reached or the connection broke (connection_failure)."""

    sqlstate = "08006"


class QueryCanceled(FdwError):
    """The operation was canceled or timed out (query_canceled)."""

    sqlstate = "57014"


class InsufficientPrivilege(FdwError):
    """The remote system refused access (insufficient_privilege)."""

    sqlstate = "42501"


class UndefinedTable(FdwError):
    """The remote table / resource does not exist (undefined_table)."""

    sqlstate = "42P01"


class SqlError(FdwError):
    """An error raised by SQL run through sgfdw.pg; sqlstate is the statement's own."""

    sqlstate = "XX000"


class InFailedSqlTransaction(SqlError):
    """sgfdw.pg was called while the transaction or subtransaction is being aborted (an
    FDW's rollback() or sub_rollback()): no SQL can run then (in_failed_sql_transaction).
    In commit() and sub_commit() the refusal is a SqlError with SQLSTATE 25000."""

    sqlstate = "25P02"


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE an exception carries, as the bridge reads it, or None.

    Looks at ``exc.sqlstate`` then ``exc.pgcode``; a value that is not a valid
    five-character SQLSTATE is ignored.
    """
    for name in ("sqlstate", "pgcode"):
        try:
            code = getattr(exc, name, None)
        except Exception:  # a misbehaving property must not hide the real error
            code = None
        if is_valid_sqlstate(code):
            return code
    return None
