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
      AND NOT e.in_extension  -- an extension's own objects are its author's to check
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

-- ---------------------------------------------------------------------------------
-- The versioned object store (sgfdw/store/, issue 11). Metadata lives in schema
-- splitgraph_meta and is written through sgfdw.pg in the caller's transaction, so a
-- rolled-back command leaves none; the data are immutable Parquet files in
-- sgfdw.object_dir (see sgfdw/store/README.md). Only superusers, or roles granted
-- EXECUTE and rights on splitgraph_meta, use it.
-- ---------------------------------------------------------------------------------
CREATE SCHEMA splitgraph_meta;

-- An image: a set of table versions. parent_id NULL only for a repository's first one.
CREATE TABLE splitgraph_meta.images (
  namespace text NOT NULL,
  repository text NOT NULL,
  image_hash text NOT NULL CHECK (image_hash ~ '^[0-9a-f]{64}$'),
  parent_id text,
  created timestamptz NOT NULL,
  comment text,
  provenance_data jsonb,
  PRIMARY KEY (namespace, repository, image_hash),
  FOREIGN KEY (namespace, repository, parent_id)
    REFERENCES splitgraph_meta.images ON DELETE CASCADE
);

-- Names of images; HEAD (the checked-out image) is stored here, latest is computed.
CREATE TABLE splitgraph_meta.tags (
  namespace text NOT NULL,
  repository text NOT NULL,
  image_hash text NOT NULL,
  tag text NOT NULL CHECK (tag <> '' AND tag <> 'latest'),
  PRIMARY KEY (namespace, repository, tag),
  FOREIGN KEY (namespace, repository, image_hash)
    REFERENCES splitgraph_meta.images ON DELETE CASCADE
);

-- A table version: its schema (ordered columns with types, primary key) and its
-- objects, applied in order (later objects win by primary key).
CREATE TABLE splitgraph_meta.tables (
  namespace text NOT NULL,
  repository text NOT NULL,
  image_hash text NOT NULL,
  table_name text NOT NULL,
  table_schema jsonb NOT NULL,
  object_ids text[] NOT NULL,
  PRIMARY KEY (namespace, repository, image_hash, table_name),
  FOREIGN KEY (namespace, repository, image_hash)
    REFERENCES splitgraph_meta.images ON DELETE CASCADE
);

-- An immutable Parquet file, named by its id; index: per column min/max and nulls.
CREATE TABLE splitgraph_meta.objects (
  object_id text PRIMARY KEY CHECK (object_id ~ '^o[0-9a-f]{62}$'),
  format text NOT NULL DEFAULT 'parquet',
  rows bigint NOT NULL,
  size bigint NOT NULL,
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  index jsonb NOT NULL,
  created timestamptz NOT NULL DEFAULT now()
);

-- Where an object can be fetched from (the external object handlers).
CREATE TABLE splitgraph_meta.external_objects (
  object_id text PRIMARY KEY REFERENCES splitgraph_meta.objects ON DELETE CASCADE,
  protocol text NOT NULL,
  url text NOT NULL
);

-- Objects downloaded into the local cache, for its bounds.
CREATE TABLE splitgraph_meta.object_cache_status (
  object_id text PRIMARY KEY REFERENCES splitgraph_meta.objects ON DELETE CASCADE,
  ready boolean NOT NULL DEFAULT false,
  refcount integer NOT NULL DEFAULT 0,
  last_used timestamptz
);

-- The remote repository a local one pushes to / pulls from.
CREATE TABLE splitgraph_meta.upstream (
  namespace text NOT NULL,
  repository text NOT NULL,
  remote_name text NOT NULL,
  remote_namespace text NOT NULL,
  remote_repository text NOT NULL,
  PRIMARY KEY (namespace, repository)
);

-- pg_dump keeps the metadata (the extension's own tables are otherwise left out).
-- One call per statement: each updates the extension's catalog row.
SELECT pg_catalog.pg_extension_config_dump('splitgraph_meta.images', '');
SELECT pg_catalog.pg_extension_config_dump('splitgraph_meta.tags', '');
SELECT pg_catalog.pg_extension_config_dump('splitgraph_meta.tables', '');
SELECT pg_catalog.pg_extension_config_dump('splitgraph_meta.objects', '');
SELECT pg_catalog.pg_extension_config_dump('splitgraph_meta.external_objects', '');
SELECT pg_catalog.pg_extension_config_dump('splitgraph_meta.object_cache_status', '');
SELECT pg_catalog.pg_extension_config_dump('splitgraph_meta.upstream', '');

-- The functions read and write values as text where that is exact: they run with
-- fixed output styles so that text means the same whatever the session's settings.
-- Those replacing a checked-out schema keep the notices of its DROPs to themselves.
CREATE FUNCTION init(repository text)
RETURNS text
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.init'
SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres' SET extra_float_digits = 1;

CREATE FUNCTION import_table(repository text, table_name text, source text,
                             message text DEFAULT NULL)
RETURNS text
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.import_table'
SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres' SET extra_float_digits = 1
SET client_min_messages = warning;

CREATE FUNCTION checkout(repository text, image text DEFAULT 'latest',
                         force boolean DEFAULT false)
RETURNS text
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.checkout'
SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres' SET extra_float_digits = 1
SET client_min_messages = warning;

CREATE FUNCTION tag(repository text, image text, tag text)
RETURNS void
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.tag';

CREATE FUNCTION log(repository text)
RETURNS TABLE (image_hash text, parent_id text, created timestamptz, comment text,
               tags text[])
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.log';

CREATE FUNCTION rm(repository text)
RETURNS void
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.rm'
SET client_min_messages = warning;

REVOKE ALL ON FUNCTION init(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION import_table(text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION checkout(text, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION tag(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION log(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION rm(text) FROM PUBLIC;

CREATE VIEW repositories AS
SELECT i.namespace || '/' || i.repository AS repository,
       h.image_hash AS head,
       count(*) AS images,
       (SELECT coalesce(array_agg(t.tag ORDER BY t.tag), '{}')
        FROM splitgraph_meta.tags t
        WHERE t.namespace = i.namespace AND t.repository = i.repository
          AND t.tag <> 'HEAD') AS tags
FROM splitgraph_meta.images i
LEFT JOIN splitgraph_meta.tags h
  ON h.namespace = i.namespace AND h.repository = i.repository AND h.tag = 'HEAD'
GROUP BY i.namespace, i.repository, h.image_hash;
-- Change tracking of checked-out tables, so that a commit costs in proportion to the
-- rows changed: statement triggers (sgfdw.store.tracking installs them) record the
-- primary keys of the rows a statement touched; NULL means "the whole table" (a table
-- without a primary key, TRUNCATE). SECURITY DEFINER: whoever may change a checked-out
-- table may record that it changed, and nothing else.
CREATE TABLE splitgraph_meta.pending_changes (
  namespace text NOT NULL,
  repository text NOT NULL,
  table_name text NOT NULL,
  key jsonb
);
CREATE INDEX ON splitgraph_meta.pending_changes (namespace, repository, table_name);

CREATE FUNCTION record_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
  keys text := (SELECT string_agg(format('r.%I', k), ', ')
                FROM unnest(TG_ARGV[3:TG_NARGS - 1]) AS k);
  statement text := 'INSERT INTO splitgraph_meta.pending_changes '
                    'SELECT $1, $2, $3, jsonb_build_array(' || keys || ') FROM ';
BEGIN
  IF keys IS NULL OR TG_OP = 'TRUNCATE' THEN
    INSERT INTO splitgraph_meta.pending_changes VALUES (TG_ARGV[0], TG_ARGV[1], TG_ARGV[2], NULL);
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    EXECUTE statement || 'new_rows r' USING TG_ARGV[0], TG_ARGV[1], TG_ARGV[2];
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE statement || 'old_rows r' USING TG_ARGV[0], TG_ARGV[1], TG_ARGV[2];
  ELSE  -- the keys of rows whose text changed (an update to the same values is none)
    EXECUTE 'INSERT INTO splitgraph_meta.pending_changes SELECT $1, $2, $3, k FROM '
            '(SELECT jsonb_build_array(' || keys || ') AS k, r::text AS t FROM new_rows r) n '
            'FULL JOIN (SELECT jsonb_build_array(' || keys || ') AS k, r::text AS t '
            'FROM old_rows r) o USING (k) WHERE n.t IS DISTINCT FROM o.t'
      USING TG_ARGV[0], TG_ARGV[1], TG_ARGV[2];
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION record_changes() FROM PUBLIC;

CREATE FUNCTION commit(repository text, message text DEFAULT NULL,
                       snapshot boolean DEFAULT false)
RETURNS text
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.commit'
SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres' SET extra_float_digits = 1;

CREATE FUNCTION diff(repository text, table_name text, image_a text,
                     image_b text DEFAULT NULL)
RETURNS TABLE (op text, "row" jsonb)
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.diff'
SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres' SET extra_float_digits = 1;

REVOKE ALL ON FUNCTION commit(text, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION diff(text, text, text, text) FROM PUBLIC;
CREATE FUNCTION cleanup()
RETURNS integer
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.cleanup';

REVOKE ALL ON FUNCTION cleanup() FROM PUBLIC;
-- (end of the object store's section)

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
-- A changed return type needs DROP + CREATE (their privileges are set again below).
-- Mounts made under 0.1 have no record: unmount refuses them (42704) and mount does not
-- replace their schema (42P06) -- drop such a schema and its server by hand. Guessing
-- which schemas were mounts could drop a user's own schema.
DROP FUNCTION mount(text, text, jsonb, boolean, jsonb);
DROP FUNCTION mount_postgres(text, text, integer, text, text, text, text, jsonb, jsonb, boolean);

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

ALTER FUNCTION unmount(text) SET log_min_error_statement = panic;

REVOKE ALL ON FUNCTION mount(text, text, jsonb, boolean, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION mount_postgres(text, text, integer, text, text, text, text, jsonb, jsonb, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION unmount(text) FROM PUBLIC;
-- ==== end of Mounts ===============================================================

-- ==== Layered querying (sgfdw.layered) ===========================================
-- One server for every repository: IMPORT FOREIGN SCHEMA "namespace/repository:image"
-- FROM SERVER sgfdw_objects INTO s makes a foreign table per table of that image
-- ("namespace/repository" alone: latest), read in place from the stored objects.
-- Users need USAGE on it (not granted to PUBLIC) and read access to splitgraph_meta.
CREATE SERVER sgfdw_objects FOREIGN DATA WRAPPER sgfdw
    OPTIONS (wrapper 'sgfdw.layered.LayeredFdw');
-- ==== end of Layered querying ====================================================
