/*
 * settings.c
 *		Settings for sharing images between engines: the registry's S3 store
 *		(sgfdw/hooks/s3_server.py) and the engine's object cache (sgfdw/store/cache.py),
 *		which read them with current_setting.
 *
 * The S3 settings are a superuser's only and hidden from everyone else (SHOW,
 * pg_settings): they name the registry's store. The secret key is never a setting's
 * value -- a configuration reload logs changed values -- but a file the server reads,
 * named by sgfdw.s3_secret_key_file. They are defined where the library is loaded:
 * a registry loads it with shared_preload_libraries so that every backend hides them.
 */
#include "sgfdw.h"

#include <limits.h>

#include "utils/guc.h"

static char *s3_endpoint = NULL;
static char *s3_bucket = NULL;
static char *s3_region = NULL;
static char *s3_access_key = NULL;
static char *s3_secret_key_file = NULL;
static int	s3_url_expiry = 3600;
static int	object_cache_size = 0;

/*
 * ALTER DATABASE / ALTER ROLE ... SET and CREATE FUNCTION ... SET keep their values in
 * catalogs every role can read (pg_db_role_setting, pg_proc): the store's location and
 * key are refused there (those values are checked with source PGC_S_TEST, and applied
 * at session start with the database / user sources).
 */
static bool
check_not_in_catalogs(char **newval, void **extra, GucSource source)
{
	if (source == PGC_S_TEST || source == PGC_S_DATABASE || source == PGC_S_USER ||
		source == PGC_S_DATABASE_USER)
	{
		GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
		GUC_check_errdetail("Per-database, per-role and per-function settings are "
							"stored in catalogs every role can read.");
		GUC_check_errhint("Set it in postgresql.conf or with ALTER SYSTEM.");
		return false;
	}
	return true;
}

static void
define_s3_string(const char *name, const char *description, char **variable,
				 const char *default_value)
{
	DefineCustomStringVariable(name, description, NULL, variable, default_value,
							   PGC_SUSET, GUC_SUPERUSER_ONLY, check_not_in_catalogs,
							   NULL, NULL);
}

void
sgfdw_define_sharing_settings(void)
{
	define_s3_string("sgfdw.s3_endpoint",
					 "URL of the S3 service holding a registry's objects (http[s]://host:port).",
					 &s3_endpoint, "");
	define_s3_string("sgfdw.s3_bucket", "S3 bucket of a registry's objects.",
					 &s3_bucket, "sgfdw-objects");
	DefineCustomStringVariable("sgfdw.s3_region", "Region of the S3 bucket.", NULL,
							   &s3_region, "us-east-1", PGC_SUSET, GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	define_s3_string("sgfdw.s3_access_key", "S3 access key of the registry.",
					 &s3_access_key, "");
	define_s3_string("sgfdw.s3_secret_key_file",
					 "File holding the S3 secret key (read by the server's user).",
					 &s3_secret_key_file, "");
	DefineCustomIntVariable("sgfdw.s3_url_expiry",
							"How long the presigned URLs a registry hands out stay valid.",
							NULL, &s3_url_expiry, 3600, 1, 7 * 24 * 3600,
							PGC_SUSET, GUC_SUPERUSER_ONLY | GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("sgfdw.object_cache_size",
							"Most space the objects downloaded from registries may take (0: no limit).",
							"Least recently used objects that can be downloaded again are "
							"evicted to make room.",
							&object_cache_size, 0, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_MB, NULL, NULL, NULL);
}
