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

-- Mounting foreign databases (sgfdw.hooks.mount_handlers). They create servers whose
-- wrapper runs Python, which only a superuser may do: not granted to PUBLIC.
CREATE FUNCTION mount(mountpoint text, handler text, options jsonb,
                      overwrite boolean DEFAULT true, tables jsonb DEFAULT NULL)
RETURNS void
LANGUAGE sgfdw_python AS 'sgfdw.hooks.mount_handlers.mount_from_sql';

CREATE FUNCTION mount_postgres(mountpoint text, server text, port integer,
                               username text, password text, dbname text,
                               remote_schema text, tables jsonb DEFAULT NULL,
                               extra_server_args jsonb DEFAULT NULL,
                               overwrite boolean DEFAULT true)
RETURNS void
LANGUAGE sgfdw_python AS 'sgfdw.hooks.mount_handlers.mount_postgres_from_sql';

CREATE FUNCTION unmount(mountpoint text)
RETURNS void
LANGUAGE sgfdw_python AS 'sgfdw.hooks.mount_handlers.unmount';

REVOKE ALL ON FUNCTION mount(text, text, jsonb, boolean, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION mount_postgres(text, text, integer, text, text, text, text, jsonb, jsonb, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION unmount(text) FROM PUBLIC;
