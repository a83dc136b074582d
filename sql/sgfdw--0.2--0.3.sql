-- sgfdw 0.2 -> 0.3: sharing images between engines, building them from Splitfiles, and
-- checking out images as layered foreign tables.
\echo Use "ALTER EXTENSION sgfdw UPDATE TO '0.3'" to load this file. \quit

-- ==== Splitfiles (sgfdw.splitfile, sgfdw.hooks.splitfile_commands) ==============
-- build() makes an image per step of the Splitfile in the output repository (a step
-- whose image exists is a cache hit) and returns the final one, checked out;
-- provenance() returns the Splitfile that rebuilds an image with the same hashes.
-- Superuser-only (not granted to PUBLIC): SQL steps and plugins run arbitrary code.
-- log_min_error_statement = panic: a FROM MOUNT step's options may hold a password,
-- which must not reach the server log with a failed call.
CREATE FUNCTION build(splitfile text, output_repository text, params jsonb DEFAULT '{}')
RETURNS text
LANGUAGE sgfdw_python AS 'sgfdw.splitfile.sql_api.build'
SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres' SET extra_float_digits = 1
SET log_min_error_statement = panic;

CREATE FUNCTION provenance(repository text, image text DEFAULT 'latest')
RETURNS text
LANGUAGE sgfdw_python AS 'sgfdw.splitfile.sql_api.provenance';

REVOKE ALL ON FUNCTION build(text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION provenance(text, text) FROM PUBLIC;

-- log() shows each image's provenance (the command that made it).
DROP FUNCTION log(text);
CREATE FUNCTION log(repository text)
RETURNS TABLE (image_hash text, parent_id text, created timestamptz, comment text,
               tags text[], provenance jsonb)
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.log';
REVOKE ALL ON FUNCTION log(text) FROM PUBLIC;

-- While a build runs an SQL step, sgfdw_build.image_schema names the image's schema:
-- DDL on anything outside it is refused as it happens (rows written elsewhere are
-- found by the build afterwards, see sgfdw/splitfile/running.py).
CREATE FUNCTION splitfile_guard() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
  image_schema text := current_setting('sgfdw_build.image_schema', true);
  outside text;
BEGIN
  IF coalesce(image_schema, '') = '' THEN
    RETURN;
  END IF;
  IF TG_EVENT = 'sql_drop' THEN
    SELECT string_agg(DISTINCT object_type || ' ' || object_identity, ', ') INTO outside
    FROM pg_event_trigger_dropped_objects()
    WHERE schema_name IS DISTINCT FROM image_schema AND schema_name IS DISTINCT FROM 'pg_toast';
  ELSE
    SELECT string_agg(DISTINCT command_tag || ' ' || coalesce(object_identity, ''), ', ')
    INTO outside FROM pg_event_trigger_ddl_commands()
    WHERE schema_name IS DISTINCT FROM image_schema AND schema_name IS DISTINCT FROM 'pg_toast';
  END IF;
  IF outside IS NOT NULL THEN
    RAISE EXCEPTION 'a Splitfile SQL step may only change objects in its image''s schema %: %',
      quote_ident(image_schema), outside
      USING ERRCODE = '42501',
            HINT = 'Read other schemas, and create tables in the image (unqualified names).';
  END IF;
END
$$;
REVOKE ALL ON FUNCTION splitfile_guard() FROM PUBLIC;

CREATE EVENT TRIGGER sgfdw_splitfile_guard ON ddl_command_end
  EXECUTE FUNCTION splitfile_guard();
CREATE EVENT TRIGGER sgfdw_splitfile_guard_drop ON sql_drop
  EXECUTE FUNCTION splitfile_guard();
-- ==== end of Splitfiles ===========================================================

-- ==== Sharing images between engines (sgfdw.hooks, sgfdw/store/sync.py) ==========
-- A registry hands out presigned URLs of its S3 bucket (settings sgfdw.s3_*, a
-- superuser's and hidden from other roles): engines never hold S3 credentials.
-- SECURITY DEFINER, to read those settings; not granted to PUBLIC: the registry's
-- administrator grants EXECUTE to the roles that push and pull.
CREATE FUNCTION get_object_upload_urls(s3_host text, object_ids text[])
RETURNS jsonb
LANGUAGE sgfdw_python SECURITY DEFINER SET search_path = pg_catalog
AS 'sgfdw.hooks.s3_server.get_object_upload_urls';

CREATE FUNCTION get_object_download_urls(s3_host text, object_ids text[])
RETURNS jsonb
LANGUAGE sgfdw_python SECURITY DEFINER SET search_path = pg_catalog
AS 'sgfdw.hooks.s3_server.get_object_download_urls';

REVOKE ALL ON FUNCTION get_object_upload_urls(text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION get_object_download_urls(text, text[]) FROM PUBLIC;

-- Remotes (registries) are foreign servers of the PostgreSQL wrapper with the
-- credentials in the caller's user mapping. push uploads the objects the registry
-- lacks, then registers the images there in one remote transaction; clone and pull
-- copy the metadata and record the upstream (splitgraph_meta.upstream): objects are
-- downloaded when checkout or a layered scan reads them, or at once (download_all).
-- handler_options: the handler's parameters, e.g. {"threads": 8}. Superuser-only;
-- log_min_error_statement = panic keeps add_remote's password out of the server log.
CREATE FUNCTION add_remote(name text, host text, port integer, dbname text,
                           username text, password text)
RETURNS void
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.add_remote'
SET log_min_error_statement = panic;

CREATE FUNCTION push(repository text, remote text, remote_repository text DEFAULT NULL,
                     handler text DEFAULT 'S3', handler_options jsonb DEFAULT '{}')
RETURNS integer
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.push'
SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres' SET extra_float_digits = 1;

CREATE FUNCTION clone(remote text, remote_repository text, local_repository text DEFAULT NULL,
                      download_all boolean DEFAULT false, handler_options jsonb DEFAULT '{}')
RETURNS integer
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.clone'
SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres' SET extra_float_digits = 1;

CREATE FUNCTION pull(repository text, download_all boolean DEFAULT false,
                     handler_options jsonb DEFAULT '{}')
RETURNS integer
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.pull'
SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres' SET extra_float_digits = 1;

REVOKE ALL ON FUNCTION add_remote(text, text, integer, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION push(text, text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION clone(text, text, text, boolean, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION pull(text, boolean, jsonb) FROM PUBLIC;

-- ==== Layered checkout (sgfdw/store/checkout.py, sgfdw.layered) ==================
-- layered => true gives the repository's schema foreign tables of server sgfdw_objects
-- that read the image in place, instead of materialised tables (commit refuses them).
DROP FUNCTION checkout(text, text, boolean);
CREATE FUNCTION checkout(repository text, image text DEFAULT 'latest',
                         force boolean DEFAULT false, layered boolean DEFAULT false)
RETURNS text
LANGUAGE sgfdw_python AS 'sgfdw.store.sql_api.checkout'
SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres' SET extra_float_digits = 1
SET client_min_messages = warning;
REVOKE ALL ON FUNCTION checkout(text, text, boolean, boolean) FROM PUBLIC;

-- The object cache (sgfdw/store/cache.py): downloaded objects with their size, when
-- they were last used, and refcount: how many transactions read them now (each holds
-- a shared advisory lock on the object, which eviction must get exclusively).
-- Bounded by sgfdw.object_cache_size.
CREATE VIEW object_cache AS
SELECT s.object_id, o.size, s.ready,
       (SELECT count(*) FROM pg_catalog.pg_locks l
        WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
          AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d
                            WHERE d.datname = pg_catalog.current_database())
          AND l.classid::bigint = (k.key >> 32) & 4294967295
          AND l.objid::bigint = k.key & 4294967295)::integer AS refcount,
       s.last_used, e.protocol, e.url
FROM splitgraph_meta.object_cache_status s
JOIN splitgraph_meta.objects o USING (object_id)
LEFT JOIN splitgraph_meta.external_objects e USING (object_id)
CROSS JOIN LATERAL (SELECT pg_catalog.hashtextextended(s.object_id, 1177) AS key) k;

REVOKE ALL ON object_cache FROM PUBLIC;
