-- sgfdw 0.2 -> 0.3: sharing images between engines, building them from Splitfiles, and
-- checking out images as layered foreign tables.
\echo Use "ALTER EXTENSION sgfdw UPDATE TO '0.3'" to load this file. \quit

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
