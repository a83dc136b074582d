/*
 * modify.c
 *		INSERT / UPDATE / DELETE / batch insert on a Python foreign table.
 *
 * UPDATE and DELETE identify rows by the FDW's rowid_column, fetched by the scan as a
 * junk column -- or, for an FDW that provides ctid (ctid.c) and names it as its
 * rowid_column, by the row's ctid, under core's own junk name "ctid". The old row comes
 * along as PostgreSQL's "wholerow" junk column (core adds it for UPDATE and for delete
 * triggers, the bridge for DELETE ... RETURNING), so update() always sees the full new
 * row and DELETE RETURNING the deleted one. An FDW that sets update_set_columns_only
 * is given only the columns the statement sets, so what it writes leaves the others
 * alone (remote column privileges, UPDATE OF triggers, concurrent changes).
 */
#include "sgfdw.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/appendinfo.h"
#include "optimizer/inherit.h"
#include "optimizer/pathnode.h"
#include "parser/parsetree.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#define ROWID_JUNK "sgfdw_rowid"
#define WHOLEROW_JUNK "wholerow"
#define CTID_JUNK "ctid"

typedef struct SgModifyState
{
	SgTable    *table;
	PyObject   *instance;
	Relation	rel;
	/*
	 * The live columns as the statement began (names, attnums, converters): Python
	 * running SQL meanwhile may rebuild the instance cache entry they come from.
	 */
	int			ncolumns;
	PyObject   *column_names;
	AttrNumber *column_attnums;
	SgConverter **converters;
	/* The columns insert() and update() are given: indexes into the arrays above. */
	int			nsent;
	int		   *sent;
	AttrNumber	rowid_junk;		/* in the plan's output, or InvalidAttrNumber */
	AttrNumber	wholerow_junk;
	SgConverter *rowid_converter;
	bool		rowid_is_ctid;
	bool		returns_ctid;	/* RETURNING reads the row's ctid */
	SgRowReader returned;		/* the rows insert(), update() and delete() return */
	/* {'on_conflict': action} for insert()/bulk_insert() of an ON CONFLICT, else NULL */
	PyObject   *insert_kwargs;
	MemoryContextCallback release_callback;
} SgModifyState;

/* Also on error: the executor's memory goes away without EndForeignModify. */
static void
release_python(void *arg)
{
	SgModifyState *state = arg;

	Py_CLEAR(state->column_names);
	Py_CLEAR(state->insert_kwargs);
	Py_CLEAR(state->instance);
}

/*
 * Multicorn's convention: a rowid_column of None means the FDW is read-only (e.g. a SQL
 * FDW not told its key), so every write is refused, INSERT included.
 */
static void
refuse_read_only(SgTable *table)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("foreign table \"%s\": this FDW does not support the writable API",
					get_rel_name(table->relid)),
			 errdetail("Its rowid_column is None.")));
}

/* The rowid column's name, or an error saying why UPDATE/DELETE cannot work. */
static char *
rowid_column(SgTable *table)
{
	PyObject   *name = PyObject_GetAttrString(table->instance, "rowid_column");
	char	   *volatile result = NULL;

	/* Only "there is none" means no UPDATE/DELETE; other exceptions are the FDW's. */
	if (name == NULL && !PyErr_ExceptionMatches(PyExc_AttributeError) &&
		!PyErr_ExceptionMatches(PyExc_NotImplementedError))
		sgfdw_report_python_error(0, "rowid_column");
	if (name == Py_None)
	{
		Py_DECREF(name);
		refuse_read_only(table);
	}
	if (name == NULL || !PyUnicode_Check(name))
	{
		Py_XDECREF(name);
		PyErr_Clear();
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("foreign table \"%s\" does not support UPDATE or DELETE",
						get_rel_name(table->relid)),
				 errdetail("Its FDW class has no rowid_column to identify rows.")));
	}
	PG_TRY();
	{
		result = sgfdw_cstring(name, "rowid_column");
	}
	PG_FINALLY();
	{
		Py_DECREF(name);
	}
	PG_END_TRY();
	return result;
}

/*
 * Before an INSERT writes anything: only a rowid_column that is None refuses it. A
 * class without one, or one that cannot name it (raises), inserts as before; its
 * exception is left for UPDATE/DELETE to report.
 */
static void
check_insertable(SgTable *table)
{
	PyObject   *name = PyObject_GetAttrString(table->instance, "rowid_column");
	bool		none = (name == Py_None);

	if (name == NULL)
		PyErr_Clear();
	Py_XDECREF(name);
	if (none)
		refuse_read_only(table);
}

/*
 * The attnums of the columns an UPDATE sets, with the generated columns computed from
 * them; NIL (every column) when a local BEFORE ROW UPDATE trigger may change others.
 */
static List *
set_columns(PlannerInfo *root, Index resultRelation)
{
	Relation	rel = table_open(planner_rt_fetch(resultRelation, root)->relid, NoLock);
	bool		before_row_trigger = rel->trigdesc && rel->trigdesc->trig_update_before_row;
	Bitmapset  *columns;
	List	   *attnums = NIL;
	int			column = -1;

	table_close(rel, NoLock);
	if (before_row_trigger)
		return NIL;
	columns = get_rel_all_updated_cols(root, find_base_rel(root, resultRelation));
	while ((column = bms_next_member(columns, column)) >= 0)
		attnums = lappend_int(attnums, column + FirstLowInvalidHeapAttributeNumber);
	return attnums;
}

/*
 * fdw_private: an UPDATE's set columns (set_columns()). INSERT ... ON CONFLICT is
 * refused here if the FDW cannot honour it, so EXPLAIN says so too.
 */
static List *
sgfdwPlanForeignModify(PlannerInfo *root, ModifyTable *plan, Index resultRelation,
					   int subplan_index)
{
	if (plan->operation == CMD_UPDATE)
		return set_columns(root, resultRelation);
	if (plan->operation == CMD_INSERT && plan->onConflictAction != ONCONFLICT_NONE)
	{
		SgTable    *table = sgfdw_get_table(planner_rt_fetch(resultRelation, root)->relid);

		Py_XDECREF(sgfdw_on_conflict(table, plan->onConflictAction));
	}
	return NIL;
}

/*
 * Which of the table's columns (indexes into its column arrays) update() is given:
 * all of them, or for an FDW that sets update_set_columns_only those of set_attnums
 * (unless NIL). Returns their number.
 */
static int
sent_columns(SgTable *table, List *set_attnums, int *indexes)
{
	bool		all = set_attnums == NIL ||
		!sgfdw_optional_flag(table->instance, "update_set_columns_only");
	int			count = 0;

	for (int i = 0; i < table->ncolumns; i++)
		if (all || list_member_int(set_attnums, table->column_attnums[i]))
			indexes[count++] = i;
	return count;
}

/* DELETE ... RETURNING gets the deleted row from the scan. */
static void
add_wholerow_for_returning(PlannerInfo *root, Index rtindex)
{
	if (root->parse->commandType == CMD_DELETE && root->parse->returningList != NIL)
		add_row_identity_var(root, makeVar(rtindex, InvalidAttrNumber, RECORDOID, -1,
										   InvalidOid, 0),
							 rtindex, WHOLEROW_JUNK);
}

static void
sgfdwAddForeignUpdateTargets(PlannerInfo *root, Index rtindex, RangeTblEntry *target_rte,
							 Relation target_relation)
{
	SgTable    *table = sgfdw_get_table(RelationGetRelid(target_relation));
	char	   *name = rowid_column(table);
	AttrNumber	attnum;
	Form_pg_attribute att;

	if (strcmp(name, CTID_JUNK) == 0)
	{
		sgfdw_require_ctid(table);
		add_row_identity_var(root, makeVar(rtindex, SelfItemPointerAttributeNumber, TIDOID, -1,
										   InvalidOid, 0),
							 rtindex, CTID_JUNK);
		add_wholerow_for_returning(root, rtindex);
		return;
	}
	attnum = get_attnum(RelationGetRelid(target_relation), name);
	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
				 errmsg("rowid_column \"%s\" is not a column of foreign table \"%s\"",
						name, RelationGetRelationName(target_relation))));
	att = TupleDescAttr(RelationGetDescr(target_relation), attnum - 1);
	add_row_identity_var(root, makeVar(rtindex, attnum, att->atttypid, att->atttypmod,
									   att->attcollation, 0),
						 rtindex, ROWID_JUNK);
	add_wholerow_for_returning(root, rtindex);
}

/* Does the expression read the ctid of range table entry *rtindex (0: of any)? */
static bool
reads_ctid(Node *node, Index *rtindex)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varattno == SelfItemPointerAttributeNumber &&
			((Var *) node)->varlevelsup == 0 &&
			(*rtindex == 0 || ((Var *) node)->varno == *rtindex);
	return expression_tree_walker(node, reads_ctid, rtindex);
}

/*
 * The rowid junk column of an UPDATE/DELETE plan, by the rowid_column the FDW names now;
 * its values are converted as the planned column's type. A FDW whose rowid_column has
 * changed since planning is told so rather than sent other values.
 */
static void
find_rowid(SgModifyState *state, Plan *subplan)
{
	TupleDesc	desc = RelationGetDescr(state->rel);
	char	   *name = rowid_column(state->table);
	Node	   *junk;
	Oid			type;

	state->rowid_is_ctid = strcmp(name, CTID_JUNK) == 0;
	state->rowid_junk = ExecFindJunkAttributeInTlist(subplan->targetlist,
													 state->rowid_is_ctid ? CTID_JUNK : ROWID_JUNK);
	if (state->rowid_is_ctid)
	{
		sgfdw_require_ctid(state->table);
		type = TIDOID;
	}
	else
	{
		AttrNumber	attnum = get_attnum(state->table->relid, name);

		type = attnum > 0 ? TupleDescAttr(desc, attnum - 1)->atttypid : InvalidOid;
	}
	junk = AttributeNumberIsValid(state->rowid_junk) ?
		(Node *) get_tle_by_resno(subplan->targetlist, state->rowid_junk)->expr : NULL;
	if (junk == NULL || !OidIsValid(type) || type != exprType(junk))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INCONSISTENT_DESCRIPTOR_INFORMATION),
				 errmsg("rowid_column of foreign table \"%s\" changed since the statement was planned",
						RelationGetRelationName(state->rel)),
				 errdetail("It is now \"%s\".", name)));
	state->rowid_converter = sgconv_create(exprType(junk), exprTypmod(junk));
}

static SgModifyState *
begin_modify(ResultRelInfo *rinfo, Plan *subplan, CmdType operation, List *returning,
			 OnConflictAction on_conflict, List *set_attnums)
{
	SgModifyState *state = palloc0(sizeof(SgModifyState));
	TupleDesc	desc = RelationGetDescr(rinfo->ri_RelationDesc);

	state->rel = rinfo->ri_RelationDesc;
	state->table = sgfdw_get_table(RelationGetRelid(state->rel));
	state->instance = state->table->instance;
	Py_INCREF(state->instance);
	state->column_names = state->table->column_names;
	Py_INCREF(state->column_names);
	state->release_callback.func = release_python;
	state->release_callback.arg = state;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &state->release_callback);
	sgfdw_xact_touch(state->instance);
	state->ncolumns = state->table->ncolumns;
	state->column_attnums = palloc(sizeof(AttrNumber) * Max(state->ncolumns, 1));
	state->converters = palloc(sizeof(SgConverter *) * Max(state->ncolumns, 1));
	state->sent = palloc(sizeof(int) * Max(state->ncolumns, 1));
	state->nsent = sent_columns(state->table, operation == CMD_UPDATE ? set_attnums : NIL,
								state->sent);
	for (int i = 0; i < state->ncolumns; i++)
	{
		Form_pg_attribute att;

		state->column_attnums[i] = state->table->column_attnums[i];
		att = TupleDescAttr(desc, state->column_attnums[i] - 1);
		state->converters[i] = sgconv_create(att->atttypid, att->atttypmod);
	}
	if (operation == CMD_UPDATE || operation == CMD_DELETE)
	{
		find_rowid(state, subplan);
		state->wholerow_junk = ExecFindJunkAttributeInTlist(subplan->targetlist, WHOLEROW_JUNK);
	}
	else
	{
		PyObject   *action;

		check_insertable(state->table);
		action = sgfdw_on_conflict(state->table, on_conflict);
		if (action != NULL)
		{
			state->insert_kwargs = Py_BuildValue("{s:N}", "on_conflict", action);
			SGFDW_CHECK(state->insert_kwargs, "ON CONFLICT");
		}
	}
	/* A routed partition has no range table index: its INSERT RETURNING reads only it. */
	state->returns_ctid = reads_ctid((Node *) returning, &rinfo->ri_RangeTableIndex);
	if (state->returns_ctid)
		sgfdw_require_ctid(state->table);
	/* Rows the FDW's writes return are read as its scans' rows, with all the columns. */
	sgrow_init_columns(&state->returned, state->ncolumns, state->column_names,
					   state->column_attnums, state->converters,
					   RelationGetRelationName(state->rel));
	state->returned.ctid = state->returns_ctid ? SG_ROW_CTID_OPTIONAL : SG_ROW_CTID_NONE;
	rinfo->ri_FdwState = state;
	return state;
}

static void
sgfdwBeginForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo, List *fdw_private,
						int subplan_index, int eflags)
{
	ModifyTable *plan = (ModifyTable *) mtstate->ps.plan;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	/* ri_returningList is set only after this call. */
	begin_modify(rinfo, outerPlanState(mtstate)->plan, mtstate->operation,
				 plan->returningLists ? list_nth(plan->returningLists, subplan_index) : NIL,
				 plan->onConflictAction, fdw_private);
}

static void
sgfdwBeginForeignInsert(ModifyTableState *mtstate, ResultRelInfo *rinfo)
{
	ModifyTable *plan = (ModifyTable *) mtstate->ps.plan;

	/* COPY has no plan; a routed INSERT ... ON CONFLICT has its statement's. */
	begin_modify(rinfo, NULL, CMD_INSERT, rinfo->ri_returningList,
				 plan ? plan->onConflictAction : ONCONFLICT_NONE, NIL);
}

static PyObject *
row_to_dict(SgModifyState *state, TupleTableSlot *slot)
{
	PyObject   *dict = PyDict_New();

	SGFDW_CHECK(dict, "building a row");
	slot_getallattrs(slot);
	for (int sent = 0; sent < state->nsent; sent++)
	{
		int			i = state->sent[sent];
		int			index = state->column_attnums[i] - 1;
		PyObject   *value = sgconv_to_python(state->converters[i], slot->tts_values[index],
											 slot->tts_isnull[index]);

		if (PyDict_SetItem(dict, PyTuple_GET_ITEM(state->column_names, i), value) < 0)
			sgfdw_report_python_error(0, "building a row");
		Py_DECREF(value);
	}
	return dict;
}

/*
 * A row returned by insert/update/delete (method) holds the values the remote side has
 * now (generated keys, defaults, triggers); they replace the slot's, for RETURNING and
 * AFTER triggers. None returns nothing: the slot stays as sent.
 */
static TupleTableSlot *
apply_returned(SgModifyState *state, EState *estate, TupleTableSlot *slot, PyObject *returned,
			   const char *method)
{
	TupleDesc	desc = slot->tts_tupleDescriptor;
	MemoryContext old;
	Datum	   *values;
	bool	   *nulls;
	ItemPointerData tid;

	if (returned == Py_None)
		return slot;
	old = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
	/* DELETE without the old row (no RETURNING): the returned values on NULLs. */
	if (TTS_EMPTY(slot))
		ExecStoreAllNullTuple(slot);
	slot_getallattrs(slot);
	tid = slot->tts_tid;
	values = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		nulls[i] = slot->tts_isnull[i];
		values[i] = nulls[i] ? (Datum) 0 : datumCopy(slot->tts_values[i], att->attbyval,
													   att->attlen);
	}
	state->returned.source = psprintf("%s()", method);
	sgrow_read(&state->returned, returned, values, nulls, &tid, NULL);
	ExecClearTuple(slot);
	memcpy(slot->tts_values, values, sizeof(Datum) * desc->natts);
	memcpy(slot->tts_isnull, nulls, sizeof(bool) * desc->natts);
	ExecStoreVirtualTuple(slot);
	slot->tts_tid = tid;
	MemoryContextSwitchTo(old);
	return slot;
}

static PyObject *
rowid_of(SgModifyState *state, TupleTableSlot *planSlot)
{
	bool		isnull;
	Datum		value = ExecGetJunkAttribute(planSlot, state->rowid_junk, &isnull);

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("rowid of foreign table \"%s\" is NULL",
						RelationGetRelationName(state->rel))));
	return sgconv_to_python(state->rowid_converter, value, false);
}

/*
 * instance.method(*args, **kwargs) (args taken over), whose result feeds the slot. With
 * an ON CONFLICT action (kwargs), None means the row was not inserted: no slot.
 */
static TupleTableSlot *
call_and_apply(SgModifyState *state, EState *estate, TupleTableSlot *slot,
			   const char *method, PyObject *args, PyObject *kwargs)
{
	PyObject   *returned = sgfdw_call_method(state->instance, method, args, kwargs, method);

	if (kwargs != NULL && returned == Py_None)
	{
		Py_DECREF(returned);
		return NULL;
	}
	PG_TRY();
	{
		slot = apply_returned(state, estate, slot, returned, method);
	}
	PG_FINALLY();
	{
		Py_DECREF(returned);
	}
	PG_END_TRY();
	/* Else RETURNING would show the invalid ctid (4294967295,0). */
	if (state->returns_ctid && !ItemPointerIsValid(&slot->tts_tid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s() of foreign table \"%s\" returned no ctid for RETURNING",
						method, RelationGetRelationName(state->rel)),
				 errdetail("An FDW that provides ctid returns the row's ctid under the key 'ctid'.")));
	return slot;
}

static TupleTableSlot *
sgfdwExecForeignInsert(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
					   TupleTableSlot *planSlot)
{
	SgModifyState *state = rinfo->ri_FdwState;

	return call_and_apply(state, estate, slot, "insert",
						  Py_BuildValue("(N)", row_to_dict(state, slot)), state->insert_kwargs);
}

static TupleTableSlot **
sgfdwExecForeignBatchInsert(EState *estate, ResultRelInfo *rinfo, TupleTableSlot **slots,
							TupleTableSlot **planSlots, int *numSlots)
{
	SgModifyState *state = rinfo->ri_FdwState;
	PyObject   *rows = PyList_New(*numSlots);
	PyObject   *result;

	SGFDW_CHECK(rows, "bulk_insert()");
	for (int i = 0; i < *numSlots; i++)
		PyList_SET_ITEM(rows, i, row_to_dict(state, slots[i]));
	result = sgfdw_call_method(state->instance, "bulk_insert", PyTuple_Pack(1, rows),
							   state->insert_kwargs, "bulk_insert()");
	/*
	 * Rows returned one per inserted row feed AFTER ROW triggers, as insert()'s do.
	 * Read from a tuple copy: converting them runs Python that may change the list.
	 */
	if (PyList_Check(result) || PyTuple_Check(result))
	{
		PyObject   *returned = PySequence_Tuple(result);

		Py_DECREF(result);
		SGFDW_CHECK(returned, "bulk_insert() result");
		result = returned;
	}
	PG_TRY();
	{
		/* Under ON CONFLICT only the inserted rows come back: they are the count. */
		if (state->insert_kwargs != NULL)
		{
			if (!PyTuple_Check(result) || PyTuple_GET_SIZE(result) > *numSlots)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
						 errmsg("bulk_insert() with on_conflict must return a list of the rows it inserted, at most %d",
								*numSlots)));
			*numSlots = PyTuple_GET_SIZE(result);
		}
		if (PyTuple_Check(result) && PyTuple_GET_SIZE(result) == *numSlots)
			for (int i = 0; i < *numSlots; i++)
				slots[i] = apply_returned(state, estate, slots[i], PyTuple_GET_ITEM(result, i),
										  "bulk_insert");
	}
	PG_FINALLY();
	{
		Py_DECREF(result);
		Py_DECREF(rows);
	}
	PG_END_TRY();
	return slots;
}

static int
sgfdwGetForeignModifyBatchSize(ResultRelInfo *rinfo)
{
	SgModifyState *state = rinfo->ri_FdwState;
	PyObject   *size;
	long		batch_size;

	/* RETURNING and WITH CHECK OPTION need each row back: core batches neither. */
	if (state == NULL || rinfo->ri_projectReturning || rinfo->ri_WithCheckOptions)
		return 1;
	size = PyObject_GetAttrString(state->instance, "modify_batch_size");
	if (size == NULL)
	{
		PyErr_Clear();
		return 1;
	}
	batch_size = PyLong_AsLong(size);
	Py_DECREF(size);
	if (batch_size == -1 && PyErr_Occurred())
		sgfdw_report_python_error(ERRCODE_FDW_INVALID_DATA_TYPE, "modify_batch_size");
	return (int) Max(1, Min(batch_size, 65535));
}

static TupleTableSlot *
sgfdwExecForeignUpdate(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
					   TupleTableSlot *planSlot)
{
	SgModifyState *state = rinfo->ri_FdwState;

	return call_and_apply(state, estate, slot, "update",
						  Py_BuildValue("(NN)", rowid_of(state, planSlot),
										row_to_dict(state, slot)), NULL);
}

static TupleTableSlot *
sgfdwExecForeignDelete(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
					   TupleTableSlot *planSlot)
{
	SgModifyState *state = rinfo->ri_FdwState;
	PyObject   *args = Py_BuildValue("(N)", rowid_of(state, planSlot));

	if (AttributeNumberIsValid(state->wholerow_junk))
	{
		bool		isnull;
		Datum		wholerow = ExecGetJunkAttribute(planSlot, state->wholerow_junk, &isnull);

		if (!isnull)
		{
			HeapTupleHeader header = DatumGetHeapTupleHeader(wholerow);
			/* A heap slot keeps the pointer: the tuple must outlive this call. */
			HeapTuple	tuple = MemoryContextAlloc(GetPerTupleMemoryContext(estate),
												   sizeof(HeapTupleData));

			tuple->t_len = HeapTupleHeaderGetDatumLength(header);
			/* A row identified by its ctid: RETURNING ctid is that one. */
			if (state->rowid_is_ctid)
				ItemPointerCopy((ItemPointer) DatumGetPointer(ExecGetJunkAttribute(planSlot,
																		 state->rowid_junk,
																		 &isnull)),
								&tuple->t_self);
			else
				ItemPointerSetInvalid(&tuple->t_self);
			tuple->t_tableOid = RelationGetRelid(state->rel);
			tuple->t_data = header;
			ExecForceStoreHeapTuple(tuple, slot, false);
		}
	}
	return call_and_apply(state, estate, slot, "delete", args, NULL);
}

static void
end_modify(SgModifyState *state)
{
	PyObject   *result;

	if (state == NULL)
		return;
	result = sgfdw_call_method(state->instance, "end_modify", NULL, NULL, "end_modify()");
	Py_DECREF(result);
	Py_CLEAR(state->instance);
}

static void
sgfdwEndForeignModify(EState *estate, ResultRelInfo *rinfo)
{
	end_modify(rinfo->ri_FdwState);
}

static void
sgfdwEndForeignInsert(EState *estate, ResultRelInfo *rinfo)
{
	end_modify(rinfo->ri_FdwState);
}

/*
 * The FDW's optional explain_modify(operation, verbose): what each row's write runs;
 * for an UPDATE given only the set columns also columns=(their names).
 */
static void
sgfdwExplainForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo, List *fdw_private,
						  int subplan_index, ExplainState *es)
{
	SgTable    *table = sgfdw_get_table(RelationGetRelid(rinfo->ri_RelationDesc));
	PyObject   *method = sgfdw_optional_attr(table->instance, "explain_modify");
	const char *operation = mtstate->operation == CMD_INSERT ? "insert" :
		mtstate->operation == CMD_UPDATE ? "update" : "delete";
	PyObject   *kwargs = NULL;
	PyObject   *lines;

	if (method == NULL)
		return;
	if (mtstate->operation == CMD_UPDATE)
	{
		int		   *indexes = palloc(sizeof(int) * Max(table->ncolumns, 1));
		int			count = sent_columns(table, fdw_private, indexes);

		if (count < table->ncolumns)
		{
			PyObject   *names = PyTuple_New(count);

			SGFDW_CHECK(names, "explain_modify()");
			for (int i = 0; i < count; i++)
				PyTuple_SET_ITEM(names, i,
								 Py_NewRef(PyTuple_GET_ITEM(table->column_names, indexes[i])));
			kwargs = Py_BuildValue("{s:N}", "columns", names);
			SGFDW_CHECK(kwargs, "explain_modify()");
		}
	}
	lines = sgfdw_call(method, Py_BuildValue("(sO)", operation,
											 es->verbose ? Py_True : Py_False),
					   kwargs, "explain_modify()");
	Py_XDECREF(kwargs);
	Py_DECREF(method);
	sgfdw_explain_lines(lines, "explain_modify()", es);
}

/*
 * Which of INSERT, UPDATE, DELETE the table allows: the instance's
 * updatable_operations() hook, else the write methods its class overrides (the rule
 * lives in sgfdw.bridge.writable_operations).
 */
static int
sgfdwIsForeignRelUpdatable(Relation rel)
{
	static PyObject *writable = NULL;
	SgTable    *table = sgfdw_get_table(RelationGetRelid(rel));
	PyObject   *answer;
	int			mask = 0;

	if (writable == NULL)
		writable = sgfdw_bridge_attr("writable_operations");
	answer = sgfdw_call(writable, PyTuple_Pack(1, table->instance), NULL,
						"checking the writable API");
	if (PyTuple_Check(answer) && PyTuple_GET_SIZE(answer) == 3)
	{
		if (sgfdw_truth(PyTuple_GET_ITEM(answer, 0), "checking the writable API"))
			mask |= (1 << CMD_INSERT);
		if (sgfdw_truth(PyTuple_GET_ITEM(answer, 1), "checking the writable API"))
			mask |= (1 << CMD_UPDATE);
		if (sgfdw_truth(PyTuple_GET_ITEM(answer, 2), "checking the writable API"))
			mask |= (1 << CMD_DELETE);
	}
	Py_DECREF(answer);
	return mask;
}

void
sgfdw_set_modify_routines(FdwRoutine *routine)
{
	routine->AddForeignUpdateTargets = sgfdwAddForeignUpdateTargets;
	routine->PlanForeignModify = sgfdwPlanForeignModify;
	routine->BeginForeignModify = sgfdwBeginForeignModify;
	routine->ExecForeignInsert = sgfdwExecForeignInsert;
	routine->ExecForeignBatchInsert = sgfdwExecForeignBatchInsert;
	routine->GetForeignModifyBatchSize = sgfdwGetForeignModifyBatchSize;
	routine->ExecForeignUpdate = sgfdwExecForeignUpdate;
	routine->ExecForeignDelete = sgfdwExecForeignDelete;
	routine->EndForeignModify = sgfdwEndForeignModify;
	routine->ExplainForeignModify = sgfdwExplainForeignModify;
	routine->BeginForeignInsert = sgfdwBeginForeignInsert;
	routine->EndForeignInsert = sgfdwEndForeignInsert;
	routine->IsForeignRelUpdatable = sgfdwIsForeignRelUpdatable;
}
