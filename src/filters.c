/*
 * filters.c
 *		Restriction clauses that are not simple quals (OR, NOT, functions, casts, ...)
 *		offered to the FDW as expression trees through its optional can_filter().
 *
 * A filter the FDW accepts is its promise: every row it yields satisfies the clause,
 * so PostgreSQL does not check it again, and it counts as enforced for LIMIT and
 * aggregate pushdown. The plan keeps the clause itself (fdw_private) and its values
 * (fdw_exprs); the scan rebuilds the tree with the values of each execution
 * (expression.c).
 */
#include "sgfdw.h"

#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"

/* A filter's description in the plan. */
enum SgFilterField
{
	SgFilterClause,				/* the clause (Expr) */
	SgFilterFirstValue,			/* Integer: index of its first value in fdw_exprs */
	SgFilterVarno,				/* Integer: the relation's range table index in the clause
								 * (setrefs.c offsets scanrelid, not the clause) */
	SgFilterFieldCount
};

static SgExpressionScope
scan_scope(Index varno, Oid relid)
{
	SgExpressionScope scope = {list_make1_int(varno), list_make1_oid(relid)};

	return scope;
}

/*
 * The restriction clauses of baserel that are no Qual and that the FDW accepts as
 * filters. *all_enforced: on entry, whether every clause is a Qual; on return, whether
 * every clause is a Qual or an accepted filter.
 */
List *
sgfdw_plan_filters(PlannerInfo *root, RelOptInfo *baserel, SgTable *table, bool *all_enforced)
{
	PyObject   *can_filter = sgfdw_optional_attr(table->instance, "can_filter");
	SgExpressionScope scope = scan_scope(baserel->relid, table->relid);
	List	   *accepted = NIL;
	ListCell   *lc;

	if (can_filter == NULL || can_filter == Py_None)
	{
		Py_XDECREF(can_filter);
		return NIL;
	}
	*all_enforced = true;
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		SgExpressionValues values = {NIL, NULL, 0};
		List	   *qual_values = NIL;
		bool		is_qual;
		PyObject   *tree;

		sgfdw_extract_quals(root, baserel, list_make1(rinfo), &qual_values, &is_qual);
		if (is_qual)
			continue;
		tree = sgfdw_expression(rinfo->clause, &scope, &values);
		if (tree == NULL)
		{
			*all_enforced = false;
			continue;
		}
		if (sgfdw_accepts(Py_NewRef(can_filter), Py_BuildValue("(N)", tree), "can_filter()"))
			accepted = lappend(accepted, rinfo);
		else
			*all_enforced = false;
	}
	Py_DECREF(can_filter);
	return accepted;
}

/*
 * Of clauses (RestrictInfos), the accepted filters are described into *descriptions,
 * their values appended to *values; the others, which PostgreSQL checks, are returned.
 */
List *
sgfdw_take_filters(List *clauses, List *filters, Index varno, Oid relid, List **values,
				   List **descriptions)
{
	SgExpressionScope scope = scan_scope(varno, relid);
	SgExpressionValues walk = {*values, NULL, 0};
	List	   *local = NIL;
	ListCell   *lc;

	*descriptions = NIL;
	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		int			first = list_length(walk.exprs);
		PyObject   *tree = list_member_ptr(filters, rinfo) ?
			sgfdw_expression(rinfo->clause, &scope, &walk) : NULL;
		Node	   *fields[SgFilterFieldCount];

		if (tree == NULL)
		{
			local = lappend(local, rinfo);
			continue;
		}
		Py_DECREF(tree);
		fields[SgFilterClause] = (Node *) rinfo->clause;
		fields[SgFilterFirstValue] = (Node *) makeInteger(first);
		fields[SgFilterVarno] = (Node *) makeInteger(varno);
		*descriptions = lappend(*descriptions, sgfdw_list_of(fields, SgFilterFieldCount));
	}
	*values = walk.exprs;
	return local;
}

/*
 * The filters' trees (a new list) for one execution of the scan of relid: evaluated
 * holds the values of the scan's fdw_exprs, NULL (EXPLAIN without running) leaves the
 * values that are not constants Parameters.
 */
PyObject *
sgfdw_filters_at_execution(List *descriptions, Oid relid, PyObject *evaluated)
{
	PyObject   *trees = PyList_New(0);
	ListCell   *lc;

	SGFDW_CHECK(trees, "building filters");
	foreach(lc, descriptions)
	{
		List	   *description = lfirst(lc);
		SgExpressionScope scope = scan_scope(intVal(list_nth(description, SgFilterVarno)),
											 relid);
		SgExpressionValues values = {NIL, evaluated,
		intVal(list_nth(description, SgFilterFirstValue))};
		PyObject   *tree = sgfdw_expression(list_nth(description, SgFilterClause), &scope,
											&values);

		if (tree == NULL)
			elog(ERROR, "a planned filter is no longer describable");
		if (PyList_Append(trees, tree) < 0)
			sgfdw_report_python_error(0, "building filters");
		Py_DECREF(tree);
	}
	return trees;
}
