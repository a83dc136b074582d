/*
 * import.c
 *		IMPORT FOREIGN SCHEMA: the FDW class describes the tables, Python writes the SQL.
 *
 * PostgreSQL itself filters the returned statements by LIMIT TO / EXCEPT, so an FDW
 * that ignores the restriction still imports the right set; the restriction is passed on
 * so FDWs can avoid describing tables that would be dropped.
 */
#include "sgfdw.h"

#include "foreign/fdwapi.h"
#include "foreign/foreign.h"

static PyObject *
restricted_names(ImportForeignSchemaStmt *stmt)
{
	PyObject   *names = PyList_New(0);
	ListCell   *lc;

	SGFDW_CHECK(names, "IMPORT FOREIGN SCHEMA");
	foreach(lc, stmt->table_list)
	{
		PyObject   *name = sgfdw_str(((RangeVar *) lfirst(lc))->relname);

		PyList_Append(names, name);
		Py_DECREF(name);
	}
	return names;
}

List *
sgfdwImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	List	   *server_options;
	char	   *wrapper;
	const char *restriction = NULL;
	PyObject   *import_statements;
	PyObject   *args;
	PyObject   *statements;
	PyObject   *iterator;
	PyObject   *statement;
	List	   *result = NIL;

	sgfdw_ensure_python();
	wrapper = sgfdw_wrapper_of_server(serverOid, &server_options);
	if (stmt->list_type == FDW_IMPORT_SCHEMA_LIMIT_TO)
		restriction = "limit";
	else if (stmt->list_type == FDW_IMPORT_SCHEMA_EXCEPT)
		restriction = "except";

	import_statements = sgfdw_bridge_attr("import_statements");
	args = Py_BuildValue("(ssNNzNssN)", wrapper, stmt->remote_schema,
						 sgfdw_options_to_dict(server_options),
						 sgfdw_options_to_dict(stmt->options),
						 restriction, restricted_names(stmt),
						 stmt->local_schema, stmt->server_name,
						 sgfdw_option_sources(InvalidOid, serverOid));
	SGFDW_CHECK(args, "IMPORT FOREIGN SCHEMA");
	statements = sgfdw_call(import_statements, args, NULL, "import_schema()");
	Py_DECREF(import_statements);

	iterator = PyObject_GetIter(statements);
	SGFDW_CHECK(iterator, "import_schema() result");
	while ((statement = PyIter_Next(iterator)) != NULL)
	{
		result = lappend(result, sgfdw_cstring(statement, "a statement of import_schema()"));
		Py_DECREF(statement);
	}
	if (PyErr_Occurred())
		sgfdw_report_python_error(0, "import_schema()");
	Py_DECREF(iterator);
	Py_DECREF(statements);
	return result;
}
