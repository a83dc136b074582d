/*
 * direct.c
 *		UPDATE and DELETE run by the FDW as one statement of its own (PlanDirectModify,
 *		BeginDirectModify, IterateDirectModify, EndDirectModify, ExplainDirectModify).
 *
 * Core offers it for a statement on one foreign table without row triggers, WITH
 * CHECK OPTIONs or stored generated columns. The bridge goes further only when the
 * statement's plan is that table's plain scan (no join, no local filter above it)
 * whose every restriction clause is a Qual or an expression tree (expression.c), as is
 * every SET expression: it then offers the FDW's optional can_modify_directly() the
 * description (sgfdw.modification). If the FDW accepts, the scan becomes the
 * modification: modify_directly() gets the description with the values of this
 * execution and returns the count, or with RETURNING one row per modified row (read as
 * its scans' rows), from which PostgreSQL computes the RETURNING list. Otherwise every
 * row goes through update()/delete() as before.
 */
#include "sgfdw.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/transam.h"
#include "catalog/pg_collation.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/appendinfo.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* ForeignScan.fdw_private of a direct modification (its fdw_exprs: the values). */
enum SgDirectPrivateIndex
{
	SgDirectPrivateVarno,		/* Integer: the table's range table index in the trees */
	SgDirectPrivateQuals,		/* the quals' descriptions (quals.c) */
	SgDirectPrivateFilters,		/* per other WHERE clause, its SgTreeField list */
	SgDirectPrivateAssignments, /* per SET column, its SgTreeField list */
	SgDirectPrivateReturning,	/* IntList: the attnums RETURNING reads, 0: all */
	SgDirectPrivateHasReturning,	/* Integer as bool: rows are returned */
	SgDirectPrivateSetsTag,		/* Integer as bool: the statement's row count is ours */
	SgDirectPrivateCount
};

/* An expression told as a tree: a SET column's new value or a WHERE clause. */
enum SgTreeField
{
	SgTreeExpr,					/* the expression, as planned */
	SgTreeFirstValue,			/* Integer: the index of its first value in fdw_exprs */
	SgTreeAttnum,				/* Integer: the column set (0: a WHERE clause) */
	SgTreeFieldCount
};

typedef struct SgDirectState
{
	SgTable    *table;
	PyObject   *instance;		/* own references: the cache may rebuild meanwhile */
	PyObject   *column_names;
	Relation	rel;
	CmdType		operation;
	SgExpressionScope scope;
	List	   *quals;			/* SgQualDesc */
	List	   *filters;
	List	   *assignments;
	List	   *returning;
	bool		has_returning;
	bool		sets_tag;
	List	   *value_states;	/* ExprState per value (fdw_exprs) */
	PyObject   *rows;			/* iterator of the returned rows, once run */
	bool		done;			/* modify_directly() was called */
	SgRowReader reader;
	MemoryContext row_context;
	MemoryContextCallback release_callback;
} SgDirectState;

static void
release_python(void *arg)
{
	SgDirectState *state = arg;

	Py_CLEAR(state->rows);
	Py_CLEAR(state->column_names);
	Py_CLEAR(state->instance);
}

static List *
tree_description(Expr *expr, int first_value, AttrNumber attnum)
{
	Node	   *fields[SgTreeFieldCount];

	fields[SgTreeExpr] = (Node *) copyObject(expr);
	fields[SgTreeFirstValue] = (Node *) makeInteger(first_value);
	fields[SgTreeAttnum] = (Node *) makeInteger(attnum);
	return sgfdw_list_of(fields, SgTreeFieldCount);
}

/*
 * The trees of the descriptions (new reference: a dict by column name of the SET
 * columns, else a tuple of the filters), with the values evaluated (NULL: not known).
 */
static PyObject *
trees_of(List *descriptions, Oid relid, const SgExpressionScope *scope, PyObject *evaluated,
		 bool by_column)
{
	PyObject   *result = by_column ? PyDict_New() : PyTuple_New(list_length(descriptions));
	ListCell   *lc;

	SGFDW_CHECK(result, "describing the modification");
	foreach(lc, descriptions)
	{
		List	   *fields = lfirst(lc);
		SgExpressionValues values = {NIL, evaluated,
		intVal(list_nth(fields, SgTreeFirstValue))};
		PyObject   *tree = sgfdw_expression(list_nth(fields, SgTreeExpr), scope, &values);

		if (tree == NULL)
			elog(ERROR, "an expression of the modification can no longer be described");
		if (!by_column)
			PyTuple_SET_ITEM(result, foreach_current_index(lc), tree);
		else
		{
			if (PyDict_SetItemString(result, get_attname(relid,
														 intVal(list_nth(fields, SgTreeAttnum)),
														 false), tree) < 0)
				sgfdw_report_python_error(0, "describing the modification");
			Py_DECREF(tree);
		}
	}
	return result;
}

/*
 * The Modification (sgfdw.modification) the descriptions stand for. evaluated holds the
 * values of this execution, NULL when they are not known (planning, EXPLAIN): a qual
 * then has the value of its Const, else UNBOUND, and a tree has Parameters.
 */
static PyObject *
modification_object(Oid relid, CmdType operation, const SgExpressionScope *scope,
					List *quals, List *filters, List *assignments, List *returning,
					bool has_returning, List *value_exprs, PyObject *evaluated,
					Bitmapset *nulls)
{
	PyObject   *unbound = sgfdw_bridge_attr("UNBOUND");
	PyObject   *qual_list = PyList_New(list_length(quals));
	PyObject   *names = Py_NewRef(Py_None);
	PyObject   *cls;
	PyObject   *args;
	PyObject   *result;
	ListCell   *lc;

	SGFDW_CHECK(qual_list, "describing the modification");
	foreach(lc, quals)
	{
		SgQualDesc *qual = lfirst(lc);
		Const	   *constant = qual->value_index < 0 ? NULL :
			list_nth(value_exprs, qual->value_index);
		PyObject   *value = NULL;

		if (constant == NULL)
			value = NULL;
		else if (evaluated)
			value = Py_NewRef(PyList_GET_ITEM(evaluated, qual->value_index));
		else if (IsA(constant, Const))
			value = sgconv_datum_to_python(constant->consttype, constant->consttypmod,
										   constant->constvalue, constant->constisnull);
		else
			value = Py_NewRef(unbound);
		PyList_SET_ITEM(qual_list, foreach_current_index(lc),
						sgfdw_make_qual(get_attname(relid, qual->attnum, false), qual, value));
		Py_XDECREF(value);
		if (qual->value_index >= 0 && bms_is_member(qual->value_index, nulls))
			sgfdw_contradict_qual(qual_list, foreach_current_index(lc),
								  get_attname(relid, qual->attnum, false), qual->attnum);
	}
	Py_SETREF(qual_list, PyList_AsTuple(qual_list));
	SGFDW_CHECK(qual_list, "describing the modification");
	if (has_returning)
	{
		bool		whole_row = list_member_int(returning, 0);
		Relation	rel = RelationIdGetRelation(relid);
		TupleDesc	desc = RelationGetDescr(rel);

		Py_DECREF(names);
		names = PyList_New(0);
		SGFDW_CHECK(names, "describing the modification");
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);
			PyObject   *name;

			if (att->attisdropped || !(whole_row || list_member_int(returning, att->attnum)))
				continue;
			name = sgfdw_str(NameStr(att->attname));
			if (PyList_Append(names, name) < 0)
				sgfdw_report_python_error(0, "describing the modification");
			Py_DECREF(name);
		}
		RelationClose(rel);
		Py_SETREF(names, PyList_AsTuple(names));
		SGFDW_CHECK(names, "describing the modification");
	}
	cls = sgfdw_bridge_attr("Modification");
	args = Py_BuildValue("(sNNNN)", operation == CMD_UPDATE ? "update" : "delete",
						 trees_of(assignments, relid, scope, evaluated, true), qual_list,
						 trees_of(filters, relid, scope, evaluated, false), names);
	SGFDW_CHECK(args, "describing the modification");
	result = sgfdw_call(cls, args, NULL, "describing the modification");
	Py_DECREF(cls);
	Py_DECREF(unbound);
	return result;
}

/*
 * Whether the expression can be told as a tree (its values then appended to *values);
 * the tree itself is made again for the description.
 */
static bool
describable(Expr *expr, const SgExpressionScope *scope, List **values)
{
	SgExpressionValues described = {*values, NULL, 0};
	PyObject   *tree = sgfdw_expression(expr, scope, &described);

	if (tree == NULL)
		return false;
	Py_DECREF(tree);
	*values = described.exprs;
	return true;
}

static bool
sgfdwPlanDirectModify(PlannerInfo *root, ModifyTable *plan, Index resultRelation,
					  int subplan_index)
{
	CmdType		operation = plan->operation;
	Plan	   *subplan = outerPlan(plan);
	ForeignScan *scan = (ForeignScan *) subplan;
	RelOptInfo *baserel;
	SgTable    *table;
	PyObject   *method;
	SgExpressionScope scope = {0};
	List	   *values = NIL;
	List	   *quals = NIL;
	List	   *filters = NIL;
	List	   *assignments = NIL;
	List	   *returning = NIL;
	ListCell   *lc;
	Node	   *items[SgDirectPrivateCount];

	if ((operation != CMD_UPDATE && operation != CMD_DELETE) || subplan == NULL ||
		!IsA(subplan, ForeignScan) || scan->scan.scanrelid != resultRelation ||
		subplan->lefttree != NULL ||
		list_nth(scan->fdw_private, SgScanPrivateAggregation) != NIL)
		return false;
	baserel = find_base_rel(root, resultRelation);
	if (baserel->lateral_relids != NULL)
		return false;
	table = sgfdw_get_table(planner_rt_fetch(resultRelation, root)->relid);
	if (!PyObject_HasAttrString(table->instance, "can_modify_directly"))
		return false;
	scope.varnos = list_make1_int(resultRelation);
	scope.relids = list_make1_oid(table->relid);
	/* No clause may be left for PostgreSQL to check: the FDW decides alone. */
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		bool		is_qual;
		List	   *qual = sgfdw_extract_quals(root, baserel, list_make1(rinfo), &values,
											   &is_qual);
		int			first_value = list_length(values);

		if (is_qual)
			quals = list_concat(quals, qual);
		else if (describable(rinfo->clause, &scope, &values))
			filters = lappend(filters, tree_description(rinfo->clause, first_value, 0));
		else
			return false;
	}
	if (operation == CMD_UPDATE)
	{
		List	   *tlist;
		List	   *attnums;
		ListCell   *lc2;

		get_translated_update_targetlist(root, resultRelation, &tlist, &attnums);
		forboth(lc, tlist, lc2, attnums)
		{
			Expr	   *expr = lfirst_node(TargetEntry, lc)->expr;
			int			first_value = list_length(values);

			if (!describable(expr, &scope, &values))
				return false;
			assignments = lappend(assignments,
								  tree_description(expr, first_value, lfirst_int(lc2)));
		}
	}
	if (plan->returningLists)
	{
		Bitmapset  *attrs = NULL;
		int			member = -1;

		pull_varattnos(list_nth(plan->returningLists, subplan_index), resultRelation, &attrs);
		while ((member = bms_next_member(attrs, member)) >= 0)
		{
			AttrNumber	attnum = member + FirstLowInvalidHeapAttributeNumber;

			/* The returned rows carry no ctid or other system column (but tableoid). */
			if (attnum < 0 && attnum != TableOidAttributeNumber)
				return false;
			if (attnum >= 0)
				returning = lappend_int(returning, attnum);
		}
	}

	method = PyObject_GetAttrString(table->instance, "can_modify_directly");
	SGFDW_CHECK(method, "can_modify_directly");
	if (!sgfdw_accepts(method,
					   Py_BuildValue("(N)",
									 modification_object(table->relid, operation, &scope,
														 quals, filters, assignments,
														 returning,
														 plan->returningLists != NIL,
														 values, NULL, NULL)),
					   "can_modify_directly()"))
		return false;

	items[SgDirectPrivateVarno] = (Node *) makeInteger(resultRelation);
	items[SgDirectPrivateQuals] = (Node *) sgfdw_quals_to_nodes(quals);
	items[SgDirectPrivateFilters] = (Node *) filters;
	items[SgDirectPrivateAssignments] = (Node *) assignments;
	items[SgDirectPrivateReturning] = (Node *) returning;
	items[SgDirectPrivateHasReturning] = (Node *) makeInteger(plan->returningLists != NIL);
	items[SgDirectPrivateSetsTag] = (Node *) makeInteger(plan->canSetTag);
	scan->operation = operation;
	scan->resultRelation = resultRelation;
	scan->fdw_exprs = values;
	scan->fdw_private = sgfdw_list_of(items, SgDirectPrivateCount);
	scan->scan.plan.qual = NIL;
	scan->scan.plan.async_capable = false;
	return true;
}

static void
sgfdwBeginDirectModify(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	SgDirectState *state = palloc0(sizeof(SgDirectState));
	SgConverter **converters;
	TupleDesc	desc;

	node->fdw_state = state;
	state->rel = node->ss.ss_currentRelation;
	desc = RelationGetDescr(state->rel);
	state->table = sgfdw_get_table(RelationGetRelid(state->rel));
	state->instance = Py_NewRef(state->table->instance);
	state->column_names = Py_NewRef(state->table->column_names);
	state->release_callback.func = release_python;
	state->release_callback.arg = state;
	/* Also on error: the executor's memory goes away without EndDirectModify. */
	MemoryContextRegisterResetCallback(estate->es_query_cxt, &state->release_callback);
	if (!(eflags & EXEC_FLAG_EXPLAIN_ONLY))
		sgfdw_xact_touch(state->instance);
	state->operation = plan->operation;
	state->scope.varnos = list_make1_int(intVal(list_nth(plan->fdw_private,
														 SgDirectPrivateVarno)));
	state->scope.relids = list_make1_oid(RelationGetRelid(state->rel));
	state->quals = sgfdw_quals_from_nodes(list_nth(plan->fdw_private, SgDirectPrivateQuals));
	state->filters = list_nth(plan->fdw_private, SgDirectPrivateFilters);
	state->assignments = list_nth(plan->fdw_private, SgDirectPrivateAssignments);
	state->returning = list_nth(plan->fdw_private, SgDirectPrivateReturning);
	state->has_returning = intVal(list_nth(plan->fdw_private, SgDirectPrivateHasReturning));
	state->sets_tag = intVal(list_nth(plan->fdw_private, SgDirectPrivateSetsTag));
	state->value_states = ExecInitExprList(plan->fdw_exprs, (PlanState *) node);

	converters = palloc(sizeof(SgConverter *) * Max(state->table->ncolumns, 1));
	for (int i = 0; i < state->table->ncolumns; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, state->table->column_attnums[i] - 1);

		converters[i] = sgconv_create(att->atttypid, att->atttypmod);
	}
	sgrow_init_columns(&state->reader, state->table->ncolumns, state->column_names,
					   state->table->column_attnums, converters,
					   RelationGetRelationName(state->rel));
	state->reader.source = "modify_directly()";
	state->row_context = AllocSetContextCreate(estate->es_query_cxt, "sgfdw returned row",
											   ALLOCSET_DEFAULT_SIZES);
}

/* The description with this execution's values (evaluate) or without (EXPLAIN). */
static PyObject *
current_modification(ForeignScanState *node, SgDirectState *state, bool evaluate)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	PyObject   *evaluated = NULL;
	Bitmapset  *nulls = NULL;
	PyObject   *result;
	ListCell   *lc;

	if (evaluate)
	{
		evaluated = PyList_New(list_length(state->value_states));
		SGFDW_CHECK(evaluated, "describing the modification");
		foreach(lc, state->value_states)
		{
			ExprState  *expr = lfirst(lc);
			MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
			bool		isnull;
			Datum		datum = ExecEvalExpr(expr, econtext, &isnull);

			MemoryContextSwitchTo(old);
			if (isnull)
				nulls = bms_add_member(nulls, foreach_current_index(lc));
			PyList_SET_ITEM(evaluated, foreach_current_index(lc),
							sgconv_datum_to_python(exprType((Node *) expr->expr),
												   exprTypmod((Node *) expr->expr), datum,
												   isnull));
		}
	}
	result = modification_object(RelationGetRelid(state->rel), state->operation,
								 &state->scope, state->quals, state->filters,
								 state->assignments, state->returning, state->has_returning,
								 plan->fdw_exprs, evaluated, nulls);
	Py_XDECREF(evaluated);
	ResetExprContext(econtext);
	return result;
}

/* Calls modify_directly(): the count (added now), or the rows to hand out. */
static void
run_modification(ForeignScanState *node, SgDirectState *state)
{
	PyObject   *modification = current_modification(node, state, true);
	PyObject   *result;

	sgfdw_discard_stale_interrupt();
	result = sgfdw_call_method(state->instance, "modify_directly",
							   PyTuple_Pack(1, modification), NULL, "modify_directly()");
	Py_DECREF(modification);
	state->done = true;
	if (state->has_returning)
	{
		state->rows = PyObject_GetIter(result);
		Py_DECREF(result);
		if (state->rows == NULL)
			sgfdw_report_python_error(ERRCODE_FDW_INVALID_DATA_TYPE,
									  "modify_directly() with RETURNING must return the rows");
	}
	else
	{
		long long	count = PyLong_Check(result) ? PyLong_AsLongLong(result) : -1;

		Py_DECREF(result);
		if (count < 0)
		{
			PyErr_Clear();
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("modify_directly() without RETURNING must return the number of rows it modified")));
		}
		if (state->sets_tag)
			node->ss.ps.state->es_processed += count;
		if (node->ss.ps.instrument)
			node->ss.ps.instrument->tuplecount += count;
	}
}

static TupleTableSlot *
sgfdwIterateDirectModify(ForeignScanState *node)
{
	SgDirectState *state = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	TupleDesc	desc = slot->tts_tupleDescriptor;
	ResultRelInfo *rinfo = node->resultRelInfo;
	PyObject   *row;
	Datum	   *values;
	bool	   *nulls;
	HeapTuple	tuple;
	MemoryContext old;

	ExecClearTuple(slot);
	if (!state->done)
		run_modification(node, state);
	if (state->rows == NULL)
		return slot;
	SGFDW_ENTER_PYTHON();
	row = PyIter_Next(state->rows);
	SGFDW_LEAVE_PYTHON();
	if (row == NULL)
	{
		if (PyErr_Occurred())
			sgfdw_report_python_error(0, "modify_directly() rows");
		Py_CLEAR(state->rows);
		return slot;
	}
	MemoryContextReset(state->row_context);
	old = MemoryContextSwitchTo(state->row_context);
	values = palloc0(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	memset(nulls, true, sizeof(bool) * desc->natts);
	PG_TRY();
	{
		sgrow_read(&state->reader, row, values, nulls, NULL, NULL);
	}
	PG_FINALLY();
	{
		Py_DECREF(row);
	}
	PG_END_TRY();
	/* A heap tuple: the scan's targetlist may read the row's ctid (invalid here). */
	tuple = heap_form_tuple(desc, values, nulls);
	tuple->t_tableOid = RelationGetRelid(state->rel);
	ItemPointerSetInvalid(&tuple->t_self);
	MemoryContextSwitchTo(old);
	ExecStoreHeapTuple(tuple, slot, false);
	if (state->sets_tag)
		node->ss.ps.state->es_processed++;
	/* PostgreSQL computes RETURNING from the modified row. */
	if (rinfo->ri_projectReturning)
		rinfo->ri_projectReturning->pi_exprContext->ecxt_scantuple = slot;
	return slot;
}

static void
sgfdwEndDirectModify(ForeignScanState *node)
{
	SgDirectState *state = node->fdw_state;

	if (state != NULL)
		release_python(state);
}

static void
sgfdwExplainDirectModify(ForeignScanState *node, ExplainState *es)
{
	SgDirectState *state = node->fdw_state;
	PyObject   *method = sgfdw_optional_attr(state->instance, "explain_modify_directly");
	PyObject   *modification;
	PyObject   *lines;

	if (method == NULL)
		return;
	modification = current_modification(node, state, false);
	lines = sgfdw_call(method, Py_BuildValue("(NO)", modification,
											 es->verbose ? Py_True : Py_False),
					   NULL, "explain_modify_directly()");
	Py_DECREF(method);
	sgfdw_explain_lines(lines, "explain_modify_directly()", es);
}

void
sgfdw_set_direct_routines(FdwRoutine *routine)
{
	routine->PlanDirectModify = sgfdwPlanDirectModify;
	routine->BeginDirectModify = sgfdwBeginDirectModify;
	routine->IterateDirectModify = sgfdwIterateDirectModify;
	routine->EndDirectModify = sgfdwEndDirectModify;
	routine->ExplainDirectModify = sgfdwExplainDirectModify;
}
