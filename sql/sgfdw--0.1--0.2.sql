\echo Use "ALTER EXTENSION sgfdw UPDATE TO '0.2'" to load this file. \quit

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
