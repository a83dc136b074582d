/*
 * instance.c
 *		One Python FDW instance per foreign table and user, per backend.
 *
 * Building an instance can be costly (FDWs open connections, read schemas), so it is
 * kept across queries. Catalog invalidations only mark entries stale; the check, which
 * runs Python, happens on the next use, never inside an invalidation callback. An
 * invalidation only says that some catalog row changed (another foreign table, a
 * trigger, a comment): the instance, with its state, is rebuilt only when what it is
 * built from (wrapper, options, columns) differs.
 */
#include "sgfdw.h"

#include "access/table.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

typedef struct SgTableKey
{
	Oid			relid;
	Oid			userid;
} SgTableKey;

static HTAB *tables = NULL;

static void
invalidate_relation(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	SgTable    *entry;

	hash_seq_init(&status, tables);
	while ((entry = hash_seq_search(&status)) != NULL)
		if (relid == InvalidOid || entry->relid == relid)
			entry->valid = false;
}

/* Server, user mapping and table options are not per-relation: any change drops all. */
static void
invalidate_all(Datum arg, int cacheid, uint32 hashvalue)
{
	invalidate_relation(arg, InvalidOid);
}

void
sgfdw_init_instance_cache(void)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(SgTableKey);
	ctl.entrysize = sizeof(SgTable);
	ctl.hcxt = TopMemoryContext;
	tables = hash_create("sgfdw instances", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(invalidate_relation, (Datum) 0);
	CacheRegisterSyscacheCallback(FOREIGNTABLEREL, invalidate_all, (Datum) 0);
	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, invalidate_all, (Datum) 0);
	CacheRegisterSyscacheCallback(USERMAPPINGOID, invalidate_all, (Datum) 0);
}

/* (name, type_oid, typmod, type_name, base_type_name, options, collation) per live column. */
static PyObject *
describe_columns(Relation rel, SgTable *entry)
{
	TupleDesc	desc = RelationGetDescr(rel);
	PyObject   *columns = PyList_New(0);
	PyObject   *names = PyList_New(0);

	SGFDW_CHECK(columns, "describing columns");
	SGFDW_CHECK(names, "describing columns");
	entry->column_attnums = MemoryContextAllocZero(TopMemoryContext,
												   sizeof(AttrNumber) * (desc->natts + 1));
	entry->ncolumns = 0;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		PyObject   *name;
		PyObject   *column;

		if (att->attisdropped)
			continue;
		name = sgfdw_str(NameStr(att->attname));
		column = Py_BuildValue("(OIissNN)", name, att->atttypid, att->atttypmod,
							   format_type_with_typemod(att->atttypid, att->atttypmod),
							   format_type_be(att->atttypid),
							   sgfdw_options_to_dict(GetForeignColumnOptions(rel->rd_id,
																			 att->attnum)),
							   sgfdw_collation_name(att->attcollation));
		SGFDW_CHECK(column, "describing columns");
		if (PyList_Append(columns, column) < 0 || PyList_Append(names, name) < 0)
			sgfdw_report_python_error(0, "describing columns");
		Py_DECREF(column);
		Py_DECREF(name);
		entry->column_attnums[entry->ncolumns++] = att->attnum;
	}
	entry->column_names = PyList_AsTuple(names);
	Py_DECREF(names);
	return columns;
}

/*
 * new_instance's arguments for the table now: (wrapper, options, columns, option
 * sources). Also sets the entry's column names and attnums.
 */
static PyObject *
instance_definition(SgTable *entry)
{
	ForeignTable *table = GetForeignTable(entry->relid);
	List	   *options = sgfdw_merged_options(entry->relid, table->serverid, true);
	char	   *wrapper = sgfdw_wrapper_option(options);
	Relation	rel;
	PyObject   *columns;
	PyObject   *definition;

	if (wrapper == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("foreign table \"%s\" has no \"wrapper\" option",
						get_rel_name(entry->relid)),
				 errhint("Set the \"wrapper\" option on the server or the table.")));
	options = sgfdw_merged_options(entry->relid, table->serverid, false);

	rel = table_open(entry->relid, AccessShareLock);
	columns = describe_columns(rel, entry);
	table_close(rel, AccessShareLock);

	definition = Py_BuildValue("(sNNN)", wrapper, sgfdw_options_to_dict(options), columns,
							   sgfdw_option_sources(entry->relid, table->serverid));
	SGFDW_CHECK(definition, "building the FDW instance");
	return definition;
}

/*
 * Keeps the instance if it was built from the same definition, else builds a new one.
 * The definition is kept as its repr(), taken before the constructor runs: FDWs may
 * change the dicts they are given (Multicorn FDWs pop options they read).
 */
static void
build_instance(SgTable *entry)
{
	PyObject   *definition = instance_definition(entry);
	PyObject   *text = PyObject_Repr(definition);
	PyObject   *new_instance;
	int			same = 0;

	if (text == NULL)
	{
		Py_DECREF(definition);
		sgfdw_report_python_error(0, "building the FDW instance");
	}
	if (entry->instance && entry->definition)
		same = PyUnicode_Compare(text, entry->definition) == 0;
	if (same)
	{
		Py_DECREF(text);
		Py_DECREF(definition);
		entry->valid = true;
		return;
	}
	/* Stored first: a failing constructor leaves no instance, so the next use retries. */
	Py_CLEAR(entry->instance);
	Py_XSETREF(entry->definition, text);
	new_instance = sgfdw_bridge_attr("new_instance");
	entry->instance = sgfdw_call(new_instance, definition, NULL, "creating the FDW instance");
	Py_DECREF(new_instance);
	entry->valid = true;
}

SgTable *
sgfdw_get_table(Oid relid)
{
	SgTableKey	key;
	SgTable    *entry;
	bool		found;

	sgfdw_ensure_python();
	key.relid = relid;
	key.userid = GetUserId();
	entry = hash_search(tables, &key, HASH_ENTER, &found);
	if (found && entry->valid && entry->instance)
		return entry;
	if (found)
	{
		Py_CLEAR(entry->column_names);
		if (entry->column_attnums)
			pfree(entry->column_attnums);
	}
	else
	{
		entry->instance = NULL;
		entry->definition = NULL;
	}
	entry->column_names = NULL;
	entry->column_attnums = NULL;
	entry->valid = false;
	build_instance(entry);
	return entry;
}
