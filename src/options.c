/*
 * options.c
 *		The options a Python FDW is given: table, server and user mapping merged, and
 *		each object's own.
 *
 * As Multicorn, an FDW sees one dict in which a later object's option replaces an
 * earlier one's (table < server < user mapping); the "wrapper" option names the class
 * and is the bridge's, not the FDW's.
 */
#include "sgfdw.h"

#include "access/reloptions.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

/* The user's mapping, else PUBLIC's, else none (a mapping is optional for Python FDWs). */
static List *
user_mapping_options(Oid userid, Oid serverid)
{
	Oid			candidates[2] = {userid, InvalidOid};

	for (int i = 0; i < 2; i++)
	{
		HeapTuple	tuple = SearchSysCache2(USERMAPPINGUSERSERVER,
											ObjectIdGetDatum(candidates[i]),
											ObjectIdGetDatum(serverid));

		if (HeapTupleIsValid(tuple))
		{
			bool		isnull;
			Datum		datum = SysCacheGetAttr(USERMAPPINGUSERSERVER, tuple,
												Anum_pg_user_mapping_umoptions, &isnull);
			List	   *options = isnull ? NIL : untransformRelOptions(datum);

			ReleaseSysCache(tuple);
			return options;
		}
	}
	return NIL;
}

/* Table < server < user mapping: a later list's option replaces an earlier one's. */
List *
sgfdw_merged_options(Oid relid, Oid serverid, bool keep_wrapper)
{
	List	   *all = NIL;
	List	   *merged = NIL;
	ListCell   *lc;

	if (OidIsValid(relid))
		all = list_copy(GetForeignTable(relid)->options);
	all = list_concat(all, GetForeignServer(serverid)->options);
	all = list_concat(all, user_mapping_options(GetUserId(), serverid));
	foreach(lc, all)
	{
		DefElem    *def = lfirst(lc);
		ListCell   *prev;

		if (!keep_wrapper && strcmp(def->defname, "wrapper") == 0)
			continue;
		foreach(prev, merged)
		{
			if (strcmp(((DefElem *) lfirst(prev))->defname, def->defname) == 0)
			{
				merged = foreach_delete_current(merged, prev);
				break;
			}
		}
		merged = lappend(merged, def);
	}
	return merged;
}

/* Options as a dict of str, for the FDW. */
PyObject *
sgfdw_options_to_dict(List *options)
{
	PyObject   *dict = PyDict_New();
	ListCell   *lc;

	SGFDW_CHECK(dict, "building options");
	foreach(lc, options)
	{
		DefElem    *def = lfirst(lc);
		PyObject   *value = sgfdw_str(defGetString(def));

		if (PyDict_SetItemString(dict, def->defname, value) < 0)
			sgfdw_report_python_error(0, "building options");
		Py_DECREF(value);
	}
	return dict;
}

/*
 * Each object's own options, {"table": {...}, "server": {...}, "user_mapping": {...}}
 * (relid invalid: no table), "server_name" and "relation_name" (the foreign table's
 * own name, None without a table), beside the merged dict: a wrapper can then refuse an
 * option on the wrong object (a password in server options, readable by anyone), let a
 * table's option override its server's, name the server in errors and default the
 * remote table's name to the local one, as postgres_fdw does.
 */
PyObject *
sgfdw_option_sources(Oid relid, Oid serverid)
{
	ForeignServer *server = GetForeignServer(serverid);
	char	   *relation_name = OidIsValid(relid) ? get_rel_name(relid) : NULL;
	PyObject   *sources;

	sources = Py_BuildValue("{sNsNsNsNsN}",
							"table", sgfdw_options_to_dict(OidIsValid(relid) ?
														   GetForeignTable(relid)->options : NIL),
							"server", sgfdw_options_to_dict(server->options),
							"user_mapping",
							sgfdw_options_to_dict(user_mapping_options(GetUserId(), serverid)),
							"server_name", sgfdw_str(server->servername),
							"relation_name", relation_name ? sgfdw_str(relation_name)
							: Py_NewRef(Py_None));
	SGFDW_CHECK(sources, "building options");
	return sources;
}

/* The last "wrapper" option of the list, NULL if there is none. */
char *
sgfdw_wrapper_option(List *options)
{
	ListCell   *lc;
	char	   *wrapper = NULL;

	foreach(lc, options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "wrapper") == 0)
			wrapper = defGetString(def);
	}
	return wrapper;
}

/*
 * The class a server names, for IMPORT FOREIGN SCHEMA (no table to name one), and the
 * server's merged options into *server_options.
 */
char *
sgfdw_wrapper_of_server(Oid serverid, List **server_options)
{
	ForeignServer *server = GetForeignServer(serverid);
	char	   *wrapper = sgfdw_wrapper_option(server->options);

	if (wrapper == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("server \"%s\" has no \"wrapper\" option", server->servername),
				 errhint("Set it to the Python class of the FDW, e.g. "
						 "OPTIONS (wrapper 'package.module.Class').")));
	if (server_options)
		*server_options = sgfdw_merged_options(InvalidOid, serverid, false);
	return wrapper;
}
