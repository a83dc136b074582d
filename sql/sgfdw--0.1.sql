\echo Use "CREATE EXTENSION sgfdw" to load this file. \quit

CREATE FUNCTION sgfdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION sgfdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER sgfdw
  HANDLER sgfdw_handler
  VALIDATOR sgfdw_validator;

-- SQL functions whose body names a Python callable ('package.module.callable').
-- Untrusted: only a superuser can create functions in it.
CREATE FUNCTION sgfdw_python_call_handler()
RETURNS language_handler
AS 'MODULE_PATHNAME'
LANGUAGE C;

CREATE FUNCTION sgfdw_python_validator(oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE LANGUAGE sgfdw_python
  HANDLER sgfdw_python_call_handler
  VALIDATOR sgfdw_python_validator;
