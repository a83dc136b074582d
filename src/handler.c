/*
 * handler.c
 *		The FDW handler (the routine table) and the options validator.
 */
#include "sgfdw.h"

#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "commands/defrem.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"

PG_FUNCTION_INFO_V1(sgfdw_handler);
PG_FUNCTION_INFO_V1(sgfdw_validator);

Datum
sgfdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = sgfdwGetForeignRelSize;
	routine->GetForeignPaths = sgfdwGetForeignPaths;
	routine->GetForeignPlan = sgfdwGetForeignPlan;
	routine->GetForeignJoinPaths = sgfdwGetForeignJoinPaths;
	routine->GetForeignUpperPaths = sgfdwGetForeignUpperPaths;
	routine->BeginForeignScan = sgfdwBeginForeignScan;
	routine->IterateForeignScan = sgfdwIterateForeignScan;
	routine->ReScanForeignScan = sgfdwReScanForeignScan;
	routine->EndForeignScan = sgfdwEndForeignScan;
	routine->ExplainForeignScan = sgfdwExplainForeignScan;
	routine->ImportForeignSchema = sgfdwImportForeignSchema;
	routine->ExecForeignTruncate = sgfdwExecForeignTruncate;
	routine->AnalyzeForeignTable = sgfdwAnalyzeForeignTable;
	sgfdw_set_modify_routines(routine);
	sgfdw_set_direct_routines(routine);
	PG_RETURN_POINTER(routine);
}

/*
 * Only the wrapper option is the bridge's business; every other option belongs to the
 * Python FDW. Naming a class runs arbitrary Python in every backend that uses the table,
 * so it is a superuser act, and an unimportable class is refused now rather than at the
 * first query.
 */
Datum
sgfdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst(lc);
		PyObject   *load_wrapper;
		PyObject   *args;
		PyObject   *cls;

		if (strcmp(def->defname, "wrapper") != 0)
			continue;
		if (catalog != ForeignServerRelationId && catalog != ForeignTableRelationId)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("the \"wrapper\" option belongs on a server or a foreign table")));
		if (!superuser())
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("only a superuser can set the \"wrapper\" option"),
					 errdetail("It names Python code that every backend using it will run.")));
		load_wrapper = sgfdw_bridge_attr("load_wrapper");
		args = Py_BuildValue("(s)", defGetString(def));
		SGFDW_CHECK(args, "checking the \"wrapper\" option");
		cls = sgfdw_call(load_wrapper, args, NULL, "checking the \"wrapper\" option");
		Py_DECREF(cls);
		Py_DECREF(load_wrapper);
	}
	PG_RETURN_VOID();
}
