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

-- Options checked when written (sgfdw.validation): PostgreSQL's validator cannot tell
-- which server, so which wrapper class, a user mapping or a foreign table belongs to;
-- an event trigger can (one call per object: a command may list an object twice).
-- Only objects of servers of this extension's handler reach
-- Python, so DDL of other FDWs never depends on it.
-- Every user's DDL runs the trigger, which calls into this schema.
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

CREATE FUNCTION check_options_of(catalog text, objid oid)
RETURNS void
LANGUAGE sgfdw_python AS 'sgfdw.validation.check_object';

CREATE FUNCTION check_options() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
  command record;
BEGIN
  FOR command IN
    SELECT DISTINCT e.classid::regclass::text AS catalog, e.objid
    FROM pg_event_trigger_ddl_commands() e
    JOIN pg_foreign_server s ON s.oid = CASE e.classid
        WHEN 'pg_foreign_server'::regclass THEN e.objid
        WHEN 'pg_user_mapping'::regclass
          THEN (SELECT m.srvid FROM pg_user_mappings m WHERE m.umid = e.objid)
        WHEN 'pg_class'::regclass
          THEN (SELECT t.ftserver FROM pg_foreign_table t WHERE t.ftrelid = e.objid)
      END
    JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
    WHERE w.fdwhandler = '@extschema@.sgfdw_handler'::regproc
  LOOP
    PERFORM @extschema@.check_options_of(command.catalog, command.objid);
  END LOOP;
END
$$;

CREATE EVENT TRIGGER sgfdw_check_options ON ddl_command_end
  WHEN TAG IN ('CREATE SERVER', 'ALTER SERVER', 'CREATE USER MAPPING',
               'ALTER USER MAPPING', 'CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE',
               'IMPORT FOREIGN SCHEMA')
  EXECUTE FUNCTION check_options();

-- ==== Mounts (sgfdw.hooks.mount_handlers) =========================================
-- Each mount is recorded, so that mount and unmount drop only what a mount created.
-- Kept by pg_dump with the servers, schemas and foreign tables it lists. Granting a
-- role the mount functions also means granting it this table and SET on
-- log_min_error_statement (below).
CREATE TABLE mounts (
    mountpoint text PRIMARY KEY,            -- the schema the mount created
    server     text NOT NULL,               -- the server it created (with a user mapping)
    handler    text NOT NULL,               -- the mount handler's name
    tables     text[] NOT NULL,             -- the foreign tables it created in mountpoint
    mounted_at timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('mounts', '');

-- They create servers whose wrapper runs Python, which only a superuser may do: not
-- granted to PUBLIC. They return the foreign tables they created. Their arguments hold
-- passwords: log_min_error_statement = panic keeps PostgreSQL from copying the call
-- into the server log (STATEMENT:) when a mount fails.
CREATE FUNCTION mount(mountpoint text, handler text, options jsonb,
                      overwrite boolean DEFAULT true, tables jsonb DEFAULT NULL)
RETURNS SETOF text
LANGUAGE sgfdw_python SET log_min_error_statement = panic
AS 'sgfdw.hooks.mount_handlers.mount_from_sql';

CREATE FUNCTION mount_postgres(mountpoint text, server text, port integer,
                               username text, password text, dbname text,
                               remote_schema text, tables jsonb DEFAULT NULL,
                               extra_server_args jsonb DEFAULT NULL,
                               overwrite boolean DEFAULT true)
RETURNS SETOF text
LANGUAGE sgfdw_python SET log_min_error_statement = panic
AS 'sgfdw.hooks.mount_handlers.mount_postgres_from_sql';

CREATE FUNCTION unmount(mountpoint text)
RETURNS void
LANGUAGE sgfdw_python SET log_min_error_statement = panic
AS 'sgfdw.hooks.mount_handlers.unmount';

REVOKE ALL ON FUNCTION mount(text, text, jsonb, boolean, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION mount_postgres(text, text, integer, text, text, text, text, jsonb, jsonb, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION unmount(text) FROM PUBLIC;
-- ==== end of Mounts ===============================================================
