/*
 * truncate.c
 *		TRUNCATE of Python foreign tables.
 *
 * PostgreSQL hands an FDW all the foreign tables of one server in one call, so that a
 * remote source can truncate them in one statement (tables whose foreign keys point at
 * each other can only go together). The bridge passes them on, per FDW class, to the
 * optional method truncate(tables, restart_identity=, cascade=) -- tables being (name,
 * instance) pairs in the statement's order -- after each instance joined the
 * transaction (begin()), so the FDW's work follows the local COMMIT or ROLLBACK. A
 * class without the method gets PostgreSQL's refusal for an FDW that cannot truncate,
 * before any FDW has truncated anything.
 */
#include "sgfdw.h"

#include "utils/rel.h"

/* class -> [(name, instance), ...] of the tables in rels, in order; refuses a class
 * without truncate(). */
static PyObject *
tables_by_class(List *rels)
{
	PyObject   *groups = PyDict_New();
	ListCell   *lc;

	SGFDW_CHECK(groups, "TRUNCATE");
	foreach(lc, rels)
	{
		Relation	rel = lfirst(lc);
		SgTable    *table = sgfdw_get_table(RelationGetRelid(rel));
		PyObject   *cls = (PyObject *) Py_TYPE(table->instance);
		PyObject   *group;
		PyObject   *pair;

		if (!PyObject_HasAttrString(table->instance, "truncate"))
		{
			Py_DECREF(groups);
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot truncate foreign table \"%s\"",
							RelationGetRelationName(rel)),
					 errdetail("Its FDW class has no truncate method.")));
		}
		group = PyDict_GetItemWithError(groups, cls);
		if (group == NULL)
		{
			group = PyList_New(0);
			if (group == NULL || PyDict_SetItem(groups, cls, group) < 0)
				sgfdw_report_python_error(0, "TRUNCATE");
			Py_DECREF(group);	/* the dict holds it */
		}
		pair = Py_BuildValue("(NO)", sgfdw_str(RelationGetRelationName(rel)),
							 table->instance);
		if (pair == NULL || PyList_Append(group, pair) < 0)
			sgfdw_report_python_error(0, "TRUNCATE");
		Py_DECREF(pair);
	}
	return groups;
}

void
sgfdwExecForeignTruncate(List *rels, DropBehavior behavior, bool restart_seqs)
{
	PyObject   *groups = tables_by_class(rels);
	PyObject   *kwargs = Py_BuildValue("{s:O,s:O}",
									   "restart_identity", restart_seqs ? Py_True : Py_False,
									   "cascade", behavior == DROP_CASCADE ? Py_True : Py_False);

	SGFDW_CHECK(kwargs, "TRUNCATE");
	PG_TRY();
	{
		PyObject   *group;
		Py_ssize_t	position = 0;

		while (PyDict_Next(groups, &position, NULL, &group))
			for (Py_ssize_t i = 0; i < PyList_GET_SIZE(group); i++)
				sgfdw_xact_touch(PyTuple_GET_ITEM(PyList_GET_ITEM(group, i), 1));
		position = 0;
		while (PyDict_Next(groups, &position, NULL, &group))
		{
			PyObject   *first = PyTuple_GET_ITEM(PyList_GET_ITEM(group, 0), 1);

			Py_DECREF(sgfdw_call_method(first, "truncate", PyTuple_Pack(1, group), kwargs,
										"truncate()"));
		}
	}
	PG_FINALLY();
	{
		Py_DECREF(kwargs);
		Py_DECREF(groups);
	}
	PG_END_TRY();
}
