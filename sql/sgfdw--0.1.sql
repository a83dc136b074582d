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
