/*
 * direct.c
 *		UPDATE and DELETE run by the FDW as one statement of its own (PlanDirectModify,
 *		BeginDirectModify, IterateDirectModify, EndDirectModify, ExplainDirectModify).
 *
 * Core offers it for a statement on one foreign table without row triggers, WITH
 * CHECK OPTIONs or stored generated columns. The bridge goes further only when the
 * statement's plan is that table's plain scan (no join, no local filter above it)
 * whose every restriction clause is a Qual, and every SET expression is a value
 * computed locally (a Constant) or a column of the table: it then offers the FDW's
 * optional can_modify_directly() the description (sgfdw.modification). If the FDW
 * accepts, the scan becomes the modification: modify_directly() gets the description
 * with the values of this execution and returns the count, or with RETURNING one row
 * per modified row (read as its scans' rows), from which PostgreSQL computes the
 * RETURNING list. Otherwise every row goes through update()/delete() as before.
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
	SgDirectPrivateQuals,		/* the quals' descriptions (quals.c) */
	SgDirectPrivateAssignments, /* per SET column, its description */
	SgDirectPrivateReturning,	/* IntList: the attnums RETURNING reads, 0: all */
	SgDirectPrivateHasReturning,	/* Integer as bool: rows are returned */
	SgDirectPrivateSetsTag,		/* Integer as bool: the statement's row count is ours */
	SgDirectPrivateCount
};

/* One SET column's description. */
enum SgAssignmentField
{
	SgAssignmentAttnum,			/* Integer: the column set */
	SgAssignmentColumn,			/* Integer: the column whose value it takes, 0: a value */
	SgAssignmentValueIndex,		/* Integer: the value's index in fdw_exprs, -1: none */
	SgAssignmentFieldCount
};

typedef struct SgDirectState
{
	SgTable    *table;
	PyObject   *instance;		/* own references: the cache may rebuild meanwhile */
	PyObject   *column_names;
	Relation	rel;
	CmdType		operation;
	List	   *quals;			/* SgQualDesc */
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

/* A type's SQL spelling as sgfdw.expression states it (qualified when not built in). */
static PyObject *
type_name(Oid type, int32 typmod)
{
	return sgfdw_str(format_type_extended(type, typmod, FORMAT_TYPE_TYPEMOD_GIVEN |
										  (type < FirstNormalObjectId ? 0 :
										   FORMAT_TYPE_FORCE_QUALIFY)));
}

static PyObject *
collation_name(Oid collation)
{
	if (!OidIsValid(collation) || collation == DEFAULT_COLLATION_OID)
		return Py_NewRef(Py_None);
	return sgfdw_str(get_collation_name(collation));
}

/* An sgfdw.expression node of class name: its common fields, then extra (taken over). */
static PyObject *
expression_node(const char *name, Oid type, int32 typmod, Oid collation, PyObject *extra)
{
	PyObject   *cls = sgfdw_bridge_attr(name);
	PyObject   *args = extra ? Py_BuildValue("(INNN)", (unsigned int) type,
											 type_name(type, typmod),
											 collation_name(collation), extra)
		: Py_BuildValue("(INN)", (unsigned int) type, type_name(type, typmod),
						collation_name(collation));
	PyObject   *node;

	SGFDW_CHECK(args, "describing an expression");
	node = sgfdw_call(cls, args, NULL, "describing an expression");
	Py_DECREF(cls);
	return node;
}

/*
 * A SET expression's description, NIL if it is neither a column of this table nor a
 * value (no column, nothing volatile, no subquery); a value is appended to *values.
 */
static List *
describe_assignment(Expr *expr, Index relid, AttrNumber attnum, List **values)
{
	Node	   *fields[SgAssignmentFieldCount];
	Var		   *var = (Var *) expr;

	fields[SgAssignmentAttnum] = (Node *) makeInteger(attnum);
	if (IsA(expr, Var) && var->varno == relid && var->varattno > 0 && var->varlevelsup == 0)
	{
		fields[SgAssignmentColumn] = (Node *) makeInteger(var->varattno);
		fields[SgAssignmentValueIndex] = (Node *) makeInteger(-1);
	}
	else if (!contain_var_clause((Node *) expr) && !contain_volatile_functions((Node *) expr) &&
			 !contain_subplans((Node *) expr))
	{
		fields[SgAssignmentColumn] = (Node *) makeInteger(0);
		fields[SgAssignmentValueIndex] = (Node *) makeInteger(list_length(*values));
		*values = lappend(*values, expr);
	}
	else
		return NIL;
	return sgfdw_list_of(fields, SgAssignmentFieldCount);
}

/*
 * The Modification (sgfdw.modification) the descriptions stand for. values[i] is the
 * Python value of value expression i, NULL where it is not known (planning, EXPLAIN):
 * a qual then has the value UNBOUND, a SET value is a Parameter.
 */
static PyObject *
modification_object(Oid relid, CmdType operation, List *quals, List *assignments,
					List *returning, bool has_returning, List *value_exprs, PyObject **values)
{
	PyObject   *unbound = sgfdw_bridge_attr("UNBOUND");
	PyObject   *qual_tuple = PyTuple_New(list_length(quals));
	PyObject   *sets = PyDict_New();
	PyObject   *names = Py_NewRef(Py_None);
	PyObject   *cls;
	PyObject   *args;
	PyObject   *result;
	ListCell   *lc;

	SGFDW_CHECK(qual_tuple, "describing the modification");
	SGFDW_CHECK(sets, "describing the modification");
	foreach(lc, quals)
	{
		SgQualDesc *qual = lfirst(lc);
		PyObject   *value = qual->value_index < 0 ? NULL :
			values[qual->value_index] ? values[qual->value_index] : unbound;

		PyTuple_SET_ITEM(qual_tuple, foreach_current_index(lc),
						 sgfdw_make_qual(get_attname(relid, qual->attnum, false), qual, value));
	}
	foreach(lc, assignments)
	{
		List	   *fields = lfirst(lc);
		AttrNumber	source = intVal(list_nth(fields, SgAssignmentColumn));
		int			index = intVal(list_nth(fields, SgAssignmentValueIndex));
		PyObject   *node;

		if (source > 0)
		{
			Oid			type;
			int32		typmod;
			Oid			collation;

			get_atttypetypmodcoll(relid, source, &type, &typmod, &collation);
			node = expression_node("Column", type, typmod, collation,
								   sgfdw_str(get_attname(relid, source, false)));
		}
		else
		{
			Node	   *expr = list_nth(value_exprs, index);

			node = expression_node(values[index] ? "Constant" : "Parameter",
								   exprType(expr), exprTypmod(expr), exprCollation(expr),
								   values[index] ? Py_NewRef(values[index]) : NULL);
		}
		if (PyDict_SetItemString(sets, get_attname(relid, intVal(list_nth(fields,
																		  SgAssignmentAttnum)),
												   false), node) < 0)
			sgfdw_report_python_error(0, "describing the modification");
		Py_DECREF(node);
	}
	if (has_returning)
	{
		bool		whole_row = list_member_int(returning, 0);
		TupleDesc	desc = NULL;
		Relation	rel = RelationIdGetRelation(relid);

		Py_DECREF(names);
		names = PyList_New(0);
		SGFDW_CHECK(names, "describing the modification");
		desc = RelationGetDescr(rel);
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
	args = Py_BuildValue("(sNN()N)", operation == CMD_UPDATE ? "update" : "delete", sets,
						 qual_tuple, names);
	SGFDW_CHECK(args, "describing the modification");
	result = sgfdw_call(cls, args, NULL, "describing the modification");
	Py_DECREF(cls);
	Py_DECREF(unbound);
	return result;
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
	List	   *values = NIL;
	List	   *quals;
	List	   *assignments = NIL;
	List	   *returning = NIL;
	bool		all_extracted;
	PyObject   *offered;
	Node	   *items[SgDirectPrivateCount];
	PyObject  **known;

	if ((operation != CMD_UPDATE && operation != CMD_DELETE) || subplan == NULL ||
		!IsA(subplan, ForeignScan) || scan->scan.scanrelid != resultRelation ||
		subplan->lefttree != NULL ||
		list_nth(scan->fdw_private, SgScanPrivateAggregation) != NIL)
		return false;
	baserel = find_base_rel(root, resultRelation);
	if (baserel->lateral_relids != NULL)
		return false;
	table = sgfdw_get_table(planner_rt_fetch(resultRelation, root)->relid);
	method = sgfdw_optional_attr(table->instance, "can_modify_directly");
	if (method == NULL)
		return false;
	/* No clause may be left for PostgreSQL to check: the FDW decides alone. */
	quals = sgfdw_extract_quals(root, baserel, baserel->baserestrictinfo, &values,
								&all_extracted);
	if (!all_extracted || list_length(scan->scan.plan.qual) != list_length(baserel->baserestrictinfo))
	{
		Py_DECREF(method);
		return false;
	}
	if (operation == CMD_UPDATE)
	{
		List	   *tlist;
		List	   *attnums;
		ListCell   *lc;
		ListCell   *lc2;

		get_translated_update_targetlist(root, resultRelation, &tlist, &attnums);
		forboth(lc, tlist, lc2, attnums)
		{
			List	   *assignment = describe_assignment(lfirst_node(TargetEntry, lc)->expr,
														 resultRelation, lfirst_int(lc2),
														 &values);

			if (assignment == NIL)
			{
				Py_DECREF(method);
				return false;
			}
			assignments = lappend(assignments, assignment);
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
			{
				Py_DECREF(method);
				return false;
			}
			if (attnum >= 0)
				returning = lappend_int(returning, attnum);
		}
	}

	known = palloc0(sizeof(PyObject *) * (list_length(values) + 1));
	for (int i = 0; i < list_length(values); i++)
	{
		Const	   *constant = list_nth(values, i);

		if (IsA(constant, Const))
			known[i] = sgconv_datum_to_python(constant->consttype, constant->consttypmod,
											  constant->constvalue, constant->constisnull);
	}
	offered = modification_object(table->relid, operation, quals, assignments, returning,
								  plan->returningLists != NIL, values, known);
	for (int i = 0; i < list_length(values); i++)
		Py_XDECREF(known[i]);
	if (!sgfdw_accepts(method, offered, "can_modify_directly()"))
		return false;

	items[SgDirectPrivateQuals] = (Node *) sgfdw_quals_to_nodes(quals);
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
	state->quals = sgfdw_quals_from_nodes(list_nth(plan->fdw_private, SgDirectPrivateQuals));
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
	int			count = list_length(state->value_states);
	PyObject  **values = palloc0(sizeof(PyObject *) * (count + 1));
	PyObject   *result;
	ListCell   *lc;

	foreach(lc, state->value_states)
	{
		ExprState  *expr = lfirst(lc);
		int			i = foreach_current_index(lc);

		if (evaluate || IsA(expr->expr, Const))
		{
			MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
			bool		isnull;
			Datum		datum = ExecEvalExpr(expr, econtext, &isnull);

			MemoryContextSwitchTo(old);
			values[i] = sgconv_datum_to_python(exprType((Node *) expr->expr),
											   exprTypmod((Node *) expr->expr), datum, isnull);
		}
	}
	result = modification_object(RelationGetRelid(state->rel), state->operation,
								 state->quals, state->assignments, state->returning,
								 state->has_returning, plan->fdw_exprs, values);
	for (int i = 0; i < count; i++)
		Py_XDECREF(values[i]);
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
