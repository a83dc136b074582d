/*
 * scan.c
 *		Begin / iterate / rescan / end of a foreign scan, and its EXPLAIN lines.
 *
 * Rows come from the iterator that execute() returns, pulled one at a time so a scan
 * stops as soon as PostgreSQL stops asking. Each item is a row (row.c reads it), or an
 * Arrow batch or stream whose rows are then handed out one per call (arrow.c reads
 * them). Only the columns the query needs are converted; the others are NULL in the slot.
 */
#include "sgfdw.h"

#include "access/sysattr.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* What a scan's row context may hold before it is emptied (sgfdwIterateForeignScan) */
#define SG_ROW_CONTEXT_LIMIT (64 * 1024)

typedef struct SgScanState
{
	SgTable    *table;
	PyObject   *instance;		/* own reference: the cache may rebuild meanwhile */
	List	   *quals;			/* SgQualDesc */
	List	   *value_states;	/* ExprState per value expression */
	SgConverter **value_converters;
	PyObject   *columns;		/* set of needed column names */
	PyObject   *sortkeys;		/* list, possibly empty */
	PyObject   *aggregation;	/* the pushed aggregation (upper.c), NULL: none */
	List	   *filters;		/* the accepted filters' descriptions (filters.c) */
	List	   *join;			/* the pushed join's description (join.c), NIL: none */
	PyObject   *join_names;		/* its output columns' names, which its rows are read by */
	int64		limit;			/* -1: none */
	int64		offset;
	PyObject   *iterator;
	bool		exhausted;
	PyObject   *row;			/* the item being read, released on the next one */
	/* The table's column names as the scan began: a rebuilt instance cache entry
	 * (Python may run SQL meanwhile) must not pull them away from the scan. */
	PyObject   *column_names;
	/* The needed columns (their keys are column_names' strs), for rows and batches, and
	 * the ctid if the query reads it (the FDW provides it). */
	SgRowReader rows;
	int			current;		/* index into the needed columns, for error context */
	SgArrowReader *arrow;		/* reads the batch whose rows are being handed out */
	bool		in_batch;
	MemoryContext row_context;
	MemoryContextCallback release_callback;
	Relation	rel;
} SgScanState;

/* The current row is done with (the next one comes, or the scan ends). */
static void
forget_row(SgScanState *state)
{
	Py_CLEAR(state->row);
}

/* The batch being read is done with: its Arrow structures are released now. */
static void
forget_batch(SgScanState *state)
{
	if (state->in_batch)
		sgarrow_close(state->arrow);
	state->in_batch = false;
}

static void
release_python(void *arg)
{
	SgScanState *state = arg;

	forget_row(state);
	forget_batch(state);
	Py_CLEAR(state->iterator);
	Py_CLEAR(state->sortkeys);
	Py_CLEAR(state->aggregation);
	Py_CLEAR(state->join_names);
	Py_CLEAR(state->columns);
	Py_CLEAR(state->column_names);
	Py_CLEAR(state->instance);
}

static int64
count_from(Node *node)
{
	Const	   *constant = (Const *) node;

	return constant == NULL || constant->constisnull ? -1 : DatumGetInt64(constant->constvalue);
}

void
sgfdwBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	SgScanState *state = palloc0(sizeof(SgScanState));
	List	   *aggregation = list_nth(plan->fdw_private, SgScanPrivateAggregation);
	List	   *join = list_nth(plan->fdw_private, SgScanPrivateJoin);
	/* An aggregation's scan reads the one foreign table of its query, a join's several. */
#if PG_VERSION_NUM >= 160000
	Relids		scanned = plan->fs_base_relids;
#else
	Relids		scanned = plan->fs_relids;
#endif
	Relation	rel = join != NIL ?
		ExecOpenScanRelation(estate, sgfdw_join_first_rtindex(join, scanned), eflags) :
		aggregation == NIL ? node->ss.ss_currentRelation :
		ExecOpenScanRelation(estate, bms_singleton_member(scanned), eflags);
	List	   *needed = list_nth(plan->fdw_private, SgScanPrivateColumns);
	bool		whole_row = list_member_int(needed, 0);
	SgRowReader *rows = &state->rows;
	ListCell   *lc;
	int			i;

	node->fdw_state = state;
	state->rel = rel;
	state->table = sgfdw_get_table(RelationGetRelid(rel));
	state->instance = state->table->instance;
	Py_INCREF(state->instance);
	state->column_names = state->table->column_names;
	Py_INCREF(state->column_names);
	if (!(eflags & EXEC_FLAG_EXPLAIN_ONLY))
		sgfdw_xact_touch(state->instance);
	if (!(eflags & EXEC_FLAG_EXPLAIN_ONLY) && join != NIL)
		sgfdw_join_touch(join);
	state->release_callback.func = release_python;
	state->release_callback.arg = state;
	/* Also on error: the executor's memory goes away without EndForeignScan. */
	MemoryContextRegisterResetCallback(estate->es_query_cxt, &state->release_callback);

	state->quals = sgfdw_quals_from_nodes(list_nth(plan->fdw_private, SgScanPrivateQuals));
	state->filters = list_nth(plan->fdw_private, SgScanPrivateFilters);
	state->value_states = ExecInitExprList(plan->fdw_exprs, (PlanState *) node);
	state->value_converters = palloc0(sizeof(SgConverter *) * (list_length(plan->fdw_exprs) + 1));
	i = 0;
	foreach(lc, plan->fdw_exprs)
	{
		Node	   *expr = lfirst(lc);

		state->value_converters[i++] = sgconv_create(exprType(expr), exprTypmod(expr));
	}
	/* An aggregation's order and limit are the aggregation's own. */
	state->sortkeys = sgfdw_sortkeys_from_nodes(state->table, aggregation != NIL ? NIL :
												list_nth(plan->fdw_private, SgScanPrivateSortKeys));
	state->limit = aggregation != NIL ? -1 :
		count_from(list_nth(plan->fdw_private, SgScanPrivateLimit));
	state->offset = aggregation != NIL ? -1 :
		count_from(list_nth(plan->fdw_private, SgScanPrivateOffset));

	state->columns = PySet_New(NULL);
	SGFDW_CHECK(state->columns, "building the column set");
	rows->ncolumns = state->table->ncolumns;
	rows->positions = palloc(sizeof(int) * rows->ncolumns);
	rows->keys = palloc(sizeof(PyObject *) * rows->ncolumns);
	rows->converters = palloc(sizeof(SgConverter *) * rows->ncolumns);
	rows->value_indexes = palloc(sizeof(int) * rows->ncolumns);
	rows->from_fdw = true;
	rows->source = "FDW";
	rows->target = psprintf("foreign table \"%s\"", RelationGetRelationName(rel));
	for (i = 0; i < rows->ncolumns; i++)
	{
		AttrNumber	attnum = state->table->column_attnums[i];
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
		PyObject   *name = PyTuple_GET_ITEM(state->column_names, i);

		if (!whole_row && !list_member_int(needed, attnum))
			continue;
		if (PySet_Add(state->columns, name) < 0)
			sgfdw_report_python_error(0, "building the column set");
		rows->positions[rows->nentries] = i;
		rows->keys[rows->nentries] = name;
		rows->converters[rows->nentries] = sgconv_create(att->atttypid, att->atttypmod);
		rows->value_indexes[rows->nentries] = attnum - 1;
		rows->nentries++;
	}
	if (list_member_int(needed, SelfItemPointerAttributeNumber))
	{
		/* Checked again: the instance may have been rebuilt since planning. */
		sgfdw_require_ctid(state->table);
		if (PySet_Add(state->columns, sgfdw_ctid_name()) < 0)
			sgfdw_report_python_error(0, "building the column set");
		rows->ctid = SG_ROW_CTID_REQUIRED;
	}
	if (aggregation != NIL)
	{
		state->aggregation = sgfdw_aggregation_from_nodes(state->table, aggregation,
														  list_nth(plan->fdw_private, SgScanPrivateSortKeys),
														  list_nth(plan->fdw_private, SgScanPrivateLimit),
														  list_nth(plan->fdw_private, SgScanPrivateOffset),
														  NULL);
		sgfdw_aggregation_reader(state->aggregation,
								 node->ss.ss_ScanTupleSlot->tts_tupleDescriptor,
								 RelationGetRelationName(rel), rows);
	}
	if (join != NIL)
	{
		state->join = join;
		state->join_names = sgfdw_join_reader(join,
											  node->ss.ss_ScanTupleSlot->tts_tupleDescriptor,
											  rows);
	}
	state->row_context = AllocSetContextCreate(estate->es_query_cxt, "sgfdw row",
											   ALLOCSET_DEFAULT_SIZES);
	state->arrow = sgarrow_open(rows->nentries, rows->keys, rows->converters,
								rows->value_indexes);
}

/*
 * Value index of the scan's fdw_exprs for this execution, a new reference: evaluated,
 * or (EXPLAIN without execution) UNBOUND unless it is a constant.
 */
PyObject *
sgfdw_scan_value(ForeignScanState *node, int index, bool evaluate)
{
	SgScanState *state = node->fdw_state;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	ExprState  *expr = list_nth(state->value_states, index);
	static PyObject *unbound = NULL;
	MemoryContext old;
	bool		isnull;
	Datum		datum;
	PyObject   *value;

	if (!evaluate && !IsA(expr->expr, Const))
	{
		/* A parameter has no value yet (which is not NULL). */
		if (unbound == NULL)
			unbound = sgfdw_bridge_attr("UNBOUND");
		Py_INCREF(unbound);
		return unbound;
	}
	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	datum = ExecEvalExpr(expr, econtext, &isnull);
	MemoryContextSwitchTo(old);
	/* The datum is left to the executor's reset of that memory (callers use it too). */
	value = sgconv_to_python(state->value_converters[index], datum, isnull);
	return value;
}

/* Whether the value at index is SQL NULL in this execution. */
bool
sgfdw_scan_value_is_null(ForeignScanState *node, int index)
{
	SgScanState *state = node->fdw_state;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	bool		isnull;

	ExecEvalExpr(list_nth(state->value_states, index), econtext, &isnull);
	MemoryContextSwitchTo(old);
	return isnull;
}

/* The quals (of foreign table relid) with their values for this execution. */
PyObject *
sgfdw_scan_quals(ForeignScanState *node, List *quals, Oid relid, bool evaluate)
{
	PyObject   *result = PyList_New(0);
	ListCell   *lc;

	SGFDW_CHECK(result, "building quals");
	foreach(lc, quals)
	{
		SgQualDesc *qual = lfirst(lc);
		PyObject   *value = qual->value_index >= 0 ?
			sgfdw_scan_value(node, qual->value_index, evaluate) : NULL;
		PyObject   *pyqual;

		pyqual = sgfdw_make_qual(qual->attnum == SelfItemPointerAttributeNumber ? "ctid" :
								 get_attname(relid, qual->attnum, false), qual, value);
		Py_XDECREF(value);
		PyList_Append(result, pyqual);
		Py_DECREF(pyqual);
	}
	return result;
}

/* The values of the scan's fdw_exprs for this execution (a new list). */
static PyObject *
evaluated_values(ForeignScanState *node, SgScanState *state)
{
	PyObject   *values = PyList_New(list_length(state->value_states));

	SGFDW_CHECK(values, "evaluating the scan's values");
	for (int i = 0; i < list_length(state->value_states); i++)
		PyList_SET_ITEM(values, i, sgfdw_scan_value(node, i, true));
	return values;
}

/* The filters' trees for this execution (for EXPLAIN without it: with Parameters). */
static PyObject *
current_filters(ForeignScanState *node, SgScanState *state, bool evaluate)
{
	PyObject   *values = NULL;
	PyObject   *filters;

	if (state->filters == NIL)
		return PyList_New(0);
	if (evaluate)
		values = evaluated_values(node, state);
	filters = sgfdw_filters_at_execution(state->filters, RelationGetRelid(state->rel),
										 values);
	Py_XDECREF(values);
	return filters;
}

/*
 * The aggregation for this execution (a new reference, None: none): as planned, or
 * with this execution's values where its trees have some.
 */
static PyObject *
current_aggregation(ForeignScanState *node, SgScanState *state, bool evaluate)
{
	List	   *private = ((ForeignScan *) node->ss.ps.plan)->fdw_private;
	List	   *description = list_nth(private, SgScanPrivateAggregation);
	SgExpressionValues values = {NIL, NULL, 0};
	PyObject   *aggregation;

	if (state->aggregation == NULL)
		return Py_NewRef(Py_None);
	values.next = sgfdw_aggregation_first_value(description);
	if (!evaluate || values.next < 0)
		return Py_NewRef(state->aggregation);
	values.evaluated = evaluated_values(node, state);
	aggregation = sgfdw_aggregation_from_nodes(state->table, description,
											   list_nth(private, SgScanPrivateSortKeys),
											   list_nth(private, SgScanPrivateLimit),
											   list_nth(private, SgScanPrivateOffset),
											   &values);
	Py_DECREF(values.evaluated);
	return aggregation;
}

static PyObject *
scan_arguments(ForeignScanState *node, SgScanState *state, bool evaluate)
{
	return Py_BuildValue("(ONOOLLNN)", state->instance,
						 sgfdw_scan_quals(node, state->quals, RelationGetRelid(state->rel),
										  evaluate),
						 state->columns, state->sortkeys, (long long) state->limit,
						 (long long) state->offset,
						 current_aggregation(node, state, evaluate),
						 current_filters(node, state, evaluate));
}

static void
start_scan(ForeignScanState *node, SgScanState *state)
{
	static PyObject *execute = NULL;
	PyObject   *args;

	if (execute == NULL)
		execute = sgfdw_bridge_attr("execute");
	sgfdw_discard_stale_interrupt();
	state->exhausted = false;
	if (state->join != NIL)
	{
		state->iterator = sgfdw_join_execute(node, state->instance, state->join);
		return;
	}
	args = scan_arguments(node, state, true);
	SGFDW_CHECK(args, "execute()");
	state->iterator = sgfdw_call(execute, args, NULL, "execute()");
}

static void
conversion_context(void *arg)
{
	SgScanState *state = arg;

	if (state->current >= 0 && state->join != NIL)
		errcontext("%s of %s", PyUnicode_AsUTF8(state->rows.keys[state->current]),
				   state->rows.target);
	else if (state->current >= 0 && state->aggregation)
		errcontext("%s of the aggregation of foreign table \"%s\"",
				   PyUnicode_AsUTF8(state->rows.keys[state->current]),
				   RelationGetRelationName(state->rel));
	else if (state->current >= 0)
		errcontext("column \"%s\" of foreign table \"%s\"",
				   NameStr(TupleDescAttr(RelationGetDescr(state->rel),
										 state->rows.value_indexes[state->current])->attname),
				   RelationGetRelationName(state->rel));
	else if (state->join != NIL)
		errcontext("row of %s", state->rows.target);
	else
		errcontext("row of foreign table \"%s\"", RelationGetRelationName(state->rel));
}

/*
 * The next item of the iterator into state->row; false at the end (the scan is then
 * exhausted).
 */
static bool
next_item(SgScanState *state)
{
	PyObject   *row;

	forget_row(state);
	SGFDW_ENTER_PYTHON();
	row = PyIter_Next(state->iterator);
	SGFDW_LEAVE_PYTHON();
	if (row == NULL)
	{
		if (PyErr_Occurred())
			sgfdw_report_python_error(0, "execute() iteration");
		state->exhausted = true;
		return false;
	}
	state->row = row;
	if (row == Py_None)			/* Multicorn ends a scan on None */
	{
		state->exhausted = true;
		return false;
	}
	return true;
}

/*
 * Fills the slot with the next row, from the batch being read or the next item; false
 * at the end of the scan. Runs in the row context, under the conversion error context.
 */
static bool
fill_slot(SgScanState *state, TupleTableSlot *slot)
{
	for (;;)
	{
		if (state->in_batch)
		{
			memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
			if (sgarrow_next_row(state->arrow, slot->tts_values, slot->tts_isnull,
								 &state->current))
				return true;
			state->in_batch = false;	/* read to its end, and released */
			state->current = -1;
		}
		if (!next_item(state))
			return false;
		if (!sgarrow_is_batch(state->row))
		{
			memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
			sgrow_read(&state->rows, state->row, slot->tts_values, slot->tts_isnull,
					   &slot->tts_tid, &state->current);
			return true;
		}
		if (state->rows.ctid != SG_ROW_CTID_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("FDW returned an Arrow batch to a scan that reads ctid"),
					 errdetail("A row with a ctid is a sequence or a mapping.")));
		state->in_batch = true;
		sgarrow_load(state->arrow, state->row);
		forget_row(state);
	}
}

TupleTableSlot *
sgfdwIterateForeignScan(ForeignScanState *node)
{
	SgScanState *state = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	ErrorContextCallback callback;
	MemoryContext old;
	bool		found;

	ExecClearTuple(slot);
	if (state->iterator == NULL)
		start_scan(node, state);
	if (state->exhausted)
		return slot;

	forget_row(state);

	/*
	 * The previous row's values are garbage from here on, but the context is emptied
	 * only once it has grown past its first blocks: a reset per row cost ~5% of a scan
	 * of short strings, and the memory held stays below the limit plus one row.
	 */
	if (MemoryContextMemAllocated(state->row_context, false) > SG_ROW_CONTEXT_LIMIT)
		MemoryContextReset(state->row_context);
	old = MemoryContextSwitchTo(state->row_context);
	state->current = -1;
	callback.callback = conversion_context;
	callback.arg = state;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	found = fill_slot(state, slot);
	error_context_stack = callback.previous;
	MemoryContextSwitchTo(old);
	return found ? ExecStoreVirtualTuple(slot) : slot;
}

void
sgfdwReScanForeignScan(ForeignScanState *node)
{
	SgScanState *state = node->fdw_state;

	/* The next fetch calls execute() again, with the parameters' new values. */
	forget_row(state);
	forget_batch(state);
	Py_CLEAR(state->iterator);
}

void
sgfdwEndForeignScan(ForeignScanState *node)
{
	SgScanState *state = node->fdw_state;
	bool		started;
	PyObject   *result;

	if (state == NULL)
		return;
	started = state->iterator != NULL;
	forget_row(state);
	forget_batch(state);
	Py_CLEAR(state->iterator);
	if (started)
	{
		result = sgfdw_call_method(state->instance, "end_scan", NULL, NULL, "end_scan()");
		Py_DECREF(result);
	}
	release_python(state);
}

/*
 * One property per line in TEXT format; in the structured formats one list, since
 * JSON and YAML readers keep only the last of properties repeating a key.
 */
static void
explain_lines(PyObject *lines, ExplainState *es)
{
	List	   *items = NIL;

	for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(lines); i++)
	{
		char	   *line = sgfdw_cstring(PySequence_Fast_GET_ITEM(lines, i),
										 "a line of explain()");

		if (es->format == EXPLAIN_FORMAT_TEXT)
			ExplainPropertyText("sgfdw", line, es);
		else
			items = lappend(items, line);
	}
	if (items != NIL)
		ExplainPropertyList("sgfdw", items, es);
}

/* The lines an FDW's explain method returned (taken over; None: none) as properties. */
void
sgfdw_explain_lines(PyObject *lines, const char *method, ExplainState *es)
{
	PyObject   *sequence = lines == Py_None ? PyList_New(0) : PySequence_Fast(lines, method);

	Py_DECREF(lines);
	SGFDW_CHECK(sequence, method);
	PG_TRY();
	{
		explain_lines(sequence, es);
	}
	PG_FINALLY();
	{
		Py_DECREF(sequence);
	}
	PG_END_TRY();
}

void
sgfdwExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	static PyObject *explain = NULL;
	SgScanState *state = node->fdw_state;
	PyObject   *args;
	PyObject   *lines;

	if (state->join != NIL)
	{
		sgfdw_join_explain(node, state->instance, state->join, es);
		return;
	}
	if (explain == NULL)
		explain = sgfdw_bridge_attr("explain");
	/* The plan names no relation for a scan of groups (as postgres_fdw's "Relations"). */
	if (state->aggregation)
		ExplainPropertyText("Relations",
							psprintf("Aggregate on (%s)",
									 quote_qualified_identifier(
										 get_namespace_name(RelationGetNamespace(state->rel)),
										 RelationGetRelationName(state->rel))), es);
	args = scan_arguments(node, state, false);
	SGFDW_CHECK(args, "explain()");
	/* sgfdw.bridge.explain gives a list of str */
	lines = sgfdw_call(explain, Py_BuildValue("(NO)", args, es->verbose ? Py_True : Py_False),
					   NULL, "explain()");
	if (!PyList_Check(lines))
	{
		Py_DECREF(lines);
		elog(ERROR, "sgfdw.bridge.explain did not return a list");
	}
	PG_TRY();
	{
		explain_lines(lines, es);
	}
	PG_FINALLY();
	{
		Py_DECREF(lines);
	}
	PG_END_TRY();
}
