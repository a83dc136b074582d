/*
 * planner.c
 *		Sizes, paths (plain, sorted, parameterised), LIMIT pushdown and the plan node.
 *
 * The Python FDW is asked what it can do (get_rel_size, can_sort, get_path_keys,
 * can_limit, enforces_quals); PostgreSQL keeps checking every qual itself, so what is
 * pushed is only ever a hint, except LIMIT/OFFSET, which replaces PostgreSQL's Limit node
 * and is therefore pushed only when no row the FDW yields can be filtered out afterwards.
 */
#include "sgfdw.h"

#include "access/sysattr.h"
#include "catalog/pg_type.h"
#include "foreign/fdwapi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "utils/lsyscache.h"

/* What planning learnt about one foreign relation (baserel->fdw_private). */
typedef struct SgPlanState
{
	Oid			relid;
	RelOptInfo *baserel;
	Bitmapset  *attrs_used;		/* attnums - FirstLowInvalidHeapAttributeNumber */
	List	   *quals;			/* SgQualDesc of baserestrictinfo */
	List	   *values;
	bool		all_quals_extracted;	/* each clause a qual or an accepted filter */
	List	   *filters;		/* RestrictInfos the FDW enforces (can_filter) */
	Cost		startup_cost;
	Cost		tuple_cost;		/* the FDW's cost of a row; < 0: Multicorn's width */
	double		width;
	List	   *sorted_pathkeys;	/* the query pathkeys the FDW accepted */
	List	   *sort_nodes;		/* their description for the executor */
	bool		sort_fully_pushed;
} SgPlanState;

#if PG_VERSION_NUM >= 180000
#define make_foreign_path(root, rel, rows, startup, total, pathkeys, outer, priv) \
	create_foreignscan_path(root, rel, NULL, rows, 0, startup, total, pathkeys, outer, \
							NULL, NIL, priv)
#elif PG_VERSION_NUM >= 170000
#define make_foreign_path(root, rel, rows, startup, total, pathkeys, outer, priv) \
	create_foreignscan_path(root, rel, NULL, rows, startup, total, pathkeys, outer, \
							NULL, NIL, priv)
#else
#define make_foreign_path(root, rel, rows, startup, total, pathkeys, outer, priv) \
	create_foreignscan_path(root, rel, NULL, rows, startup, total, pathkeys, outer, \
							NULL, priv)
#endif

static PyObject *
column_set(SgTable *table, Bitmapset *attrs_used)
{
	PyObject   *set = PySet_New(NULL);
	bool		whole_row = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs_used);

	SGFDW_CHECK(set, "building the column set");
	for (int i = 0; i < table->ncolumns; i++)
	{
		if (whole_row ||
			bms_is_member(table->column_attnums[i] - FirstLowInvalidHeapAttributeNumber,
						  attrs_used))
			if (PySet_Add(set, PyTuple_GET_ITEM(table->column_names, i)) < 0)
				sgfdw_report_python_error(0, "building the column set");
	}
	if (bms_is_member(SelfItemPointerAttributeNumber - FirstLowInvalidHeapAttributeNumber,
					  attrs_used) &&
		PySet_Add(set, sgfdw_ctid_name()) < 0)
		sgfdw_report_python_error(0, "building the column set");
	return set;
}

static double
number_from(PyObject *obj, const char *what)
{
	double		value = PyFloat_AsDouble(obj);

	if (value == -1.0 && PyErr_Occurred())
		sgfdw_report_python_error(ERRCODE_FDW_INVALID_DATA_TYPE, what);
	return value;
}

/* A cost attribute of the FDW, `absent` when it has none or it is None. */
static Cost
optional_cost(PyObject *instance, const char *name, Cost absent)
{
	PyObject   *value = sgfdw_optional_attr(instance, name);
	Cost		cost = absent;

	if (value != NULL && value != Py_None)
		cost = number_from(value, name);
	Py_XDECREF(value);
	return cost;
}

/*
 * The columns a scan reads: those of its output and of the restriction clauses but the
 * filters the FDW enforces (it needs not return what only they read).
 */
static Bitmapset *
used_columns(RelOptInfo *baserel, List *filters)
{
	Bitmapset  *attrs = NULL;
	ListCell   *lc;

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs);
	foreach(lc, baserel->baserestrictinfo)
		if (!list_member_ptr(filters, lfirst(lc)))
			pull_varattnos((Node *) lfirst_node(RestrictInfo, lc)->clause, baserel->relid,
						   &attrs);
	return attrs;
}

void
sgfdwGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	SgPlanState *state = palloc0(sizeof(SgPlanState));
	SgTable    *table = sgfdw_get_table(foreigntableid);
	PyObject   *quals;
	PyObject   *columns;
	PyObject   *size;

	state->relid = foreigntableid;
	state->baserel = baserel;
	baserel->fdw_private = state;

	state->attrs_used = used_columns(baserel, NIL);
	/* Refused before quals on ctid are described: only an FDW providing it sees them. */
	if (bms_is_member(SelfItemPointerAttributeNumber - FirstLowInvalidHeapAttributeNumber,
					  state->attrs_used))
		sgfdw_require_ctid(table);
	state->quals = sgfdw_extract_quals(root, baserel, baserel->baserestrictinfo,
									   &state->values, &state->all_quals_extracted);
	state->filters = sgfdw_plan_filters(root, baserel, table, &state->all_quals_extracted);
	if (state->filters != NIL)
		state->attrs_used = used_columns(baserel, state->filters);

	sgfdw_discard_stale_interrupt();
	quals = sgfdw_plan_time_quals(table, state->quals, state->values);
	columns = column_set(table, state->attrs_used);
	size = sgfdw_call_method(table->instance, "get_rel_size",
							 PyTuple_Pack(2, quals, columns), NULL, "get_rel_size()");
	if (!PySequence_Check(size) || PySequence_Size(size) != 2)
	{
		if (PyErr_Occurred())
			sgfdw_report_python_error(ERRCODE_FDW_INVALID_DATA_TYPE, "get_rel_size() result");
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("get_rel_size() must return a (rows, width) pair")));
	}
	{
		PyObject   *rows = PySequence_GetItem(size, 0);
		PyObject   *width = PySequence_GetItem(size, 1);

		baserel->rows = number_from(rows, "get_rel_size() rows");
		/* The FDW was asked before it knew its filters: they keep rows out, as estimated. */
		baserel->rows = clamp_row_est(baserel->rows *
									  clauselist_selectivity(root, state->filters,
															 baserel->relid, JOIN_INNER,
															 NULL));
		state->width = Max(number_from(width, "get_rel_size() width"), 1);
		baserel->reltarget->width = (int) Min(state->width, INT_MAX);
		Py_XDECREF(rows);
		Py_XDECREF(width);
	}
	Py_DECREF(size);
	Py_DECREF(quals);
	Py_DECREF(columns);

	state->startup_cost = optional_cost(table->instance, "_startup_cost", 20);
	state->tuple_cost = optional_cost(table->instance, "_tuple_cost", -1);
}

/*
 * Multicorn's cost of fetching rows is their width; an FDW that states a per-row cost
 * (_tuple_cost, e.g. postgres_fdw's fdw_tuple_cost) is costed as postgres_fdw costs a
 * remote row: that cost plus the local cost of processing the row.
 */
static Cost
rows_cost(SgPlanState *state, double rows, double width)
{
	if (state->tuple_cost >= 0)
		return rows * (state->tuple_cost + cpu_tuple_cost);
	return rows * width;
}

static Cost
run_cost(SgPlanState *state, double rows)
{
	return rows_cost(state, rows, state->width);
}

void
sgfdw_scan_costs(RelOptInfo *baserel, double rows, double width, Cost *startup_cost,
				 Cost *total_cost)
{
	SgPlanState *state = baserel->fdw_private;

	*startup_cost = state->startup_cost;
	*total_cost = state->startup_cost + rows_cost(state, rows, width);
}

/* The column (attnum) a pathkey sorts by, if it is a plain column of this relation. */
static Var *
pathkey_column(PathKey *pathkey, RelOptInfo *baserel)
{
	ListCell   *lc;

	foreach(lc, pathkey->pk_eclass->ec_members)
	{
		EquivalenceMember *member = lfirst(lc);
		Node	   *expr = (Node *) member->em_expr;

		while (IsA(expr, RelabelType))
			expr = (Node *) ((RelabelType *) expr)->arg;
		if (IsA(expr, Var) && ((Var *) expr)->varno == baserel->relid &&
			((Var *) expr)->varattno > 0 && ((Var *) expr)->varlevelsup == 0 &&
			bms_equal(member->em_relids, baserel->relids))
			return (Var *) expr;
	}
	return NULL;
}

/* The description of a sort by pathkey of the column (or output) attnum. */
List *
sgfdw_sortkey_node(PathKey *pathkey, int attnum)
{
	Oid			collation = pathkey->pk_eclass->ec_collation;
	char	   *collation_name;
	Node	   *fields[SgSortKeyFieldCount];

	fields[SgSortKeyAttnum] = (Node *) makeInteger(attnum);
#if PG_VERSION_NUM >= 180000
	fields[SgSortKeyReversed] = (Node *) makeInteger(pathkey->pk_cmptype == COMPARE_GT);
#else
	fields[SgSortKeyReversed] =
		(Node *) makeInteger(pathkey->pk_strategy == BTGreaterStrategyNumber);
#endif
	fields[SgSortKeyNullsFirst] = (Node *) makeInteger(pathkey->pk_nulls_first);
	/*
	 * As Multicorn: the default collation is None, so FDWs add no COLLATE for it; and
	 * named as in expression trees, so that a user's own "C" is not the built-in one.
	 */
	collation_name = sgfdw_collation_sql_name(collation);
	fields[SgSortKeyCollation] = (Node *) makeString(collation_name ? collation_name : "");
	return sgfdw_list_of(fields, SgSortKeyFieldCount);
}

/* The SortKey a description stands for, named name (a new reference). */
PyObject *
sgfdw_sortkey_object(PyObject *name, List *node)
{
	static PyObject *sortkey_class = NULL;
	char	   *collation = strVal(list_nth(node, SgSortKeyCollation));
	PyObject   *args;

	if (sortkey_class == NULL)
		sortkey_class = sgfdw_bridge_attr("SortKey");
	args = Py_BuildValue("(OiOON)", name, intVal(list_nth(node, SgSortKeyAttnum)),
						 intVal(list_nth(node, SgSortKeyReversed)) ? Py_True : Py_False,
						 intVal(list_nth(node, SgSortKeyNullsFirst)) ? Py_True : Py_False,
						 collation[0] ? sgfdw_str(collation) : Py_NewRef(Py_None));
	SGFDW_CHECK(args, "building a sort key");
	return sgfdw_call(sortkey_class, args, NULL, "building a sort key");
}

static PyObject *
make_sortkey(SgTable *table, List *node)
{
	PyObject   *name = sgfdw_str(get_attname(table->relid,
											 intVal(list_nth(node, SgSortKeyAttnum)), false));
	PyObject   *key = sgfdw_sortkey_object(name, node);

	Py_DECREF(name);
	return key;
}

/* Python SortKey objects from their description nodes (also used by scan.c). */
PyObject *
sgfdw_sortkeys_from_nodes(SgTable *table, List *nodes)
{
	PyObject   *list = PyList_New(0);
	ListCell   *lc;

	SGFDW_CHECK(list, "building sort keys");
	foreach(lc, nodes)
	{
		PyObject   *key = make_sortkey(table, lfirst(lc));

		PyList_Append(list, key);
		Py_DECREF(key);
	}
	return list;
}

/*
 * Offers the FDW the longest prefix of the query's ordering made of this relation's
 * columns; keeps what it accepts.
 */
static void
plan_sort_pushdown(PlannerInfo *root, RelOptInfo *baserel, SgPlanState *state, SgTable *table)
{
	List	   *nodes = NIL;
	ListCell   *lc;
	PyObject   *offered;
	PyObject   *accepted;
	Py_ssize_t	count;

	foreach(lc, root->query_pathkeys)
	{
		Var		   *var = pathkey_column(lfirst(lc), baserel);

		if (var == NULL)
			break;
		nodes = lappend(nodes, sgfdw_sortkey_node(lfirst(lc), var->varattno));
	}
	if (nodes == NIL)
		return;

	offered = sgfdw_sortkeys_from_nodes(table, nodes);
	accepted = sgfdw_call_method(table->instance, "can_sort", PyTuple_Pack(1, offered), NULL,
								 "can_sort()");
	count = accepted == Py_None ? 0 : PySequence_Size(accepted);
	if (count < 0)
		sgfdw_report_python_error(ERRCODE_FDW_INVALID_DATA_TYPE, "can_sort() result");
	Py_DECREF(accepted);
	Py_DECREF(offered);
	count = Min(count, list_length(nodes));
	if (count == 0)
		return;
	state->sort_nodes = list_copy_head(nodes, count);
	state->sorted_pathkeys = list_copy_head(root->query_pathkeys, count);
	state->sort_fully_pushed = root->sort_pathkeys != NIL &&
		pathkeys_contained_in(root->sort_pathkeys, state->sorted_pathkeys);
}

/* Is the join clause "column = expression of other relations only"? */
static bool
is_join_equality(PlannerInfo *root, RestrictInfo *rinfo, RelOptInfo *baserel,
				 AttrNumber attnum)
{
	OpExpr	   *op;

	if (!IsA(rinfo->clause, OpExpr) || list_length(((OpExpr *) rinfo->clause)->args) != 2)
		return false;
	op = (OpExpr *) rinfo->clause;
	if (strcmp(get_opname(op->opno), "=") != 0)
		return false;
	for (int side = 0; side < 2; side++)
	{
		Node	   *column = list_nth(op->args, side);
		Node	   *other = list_nth(op->args, 1 - side);
		Relids		other_relids;

		while (IsA(column, RelabelType))
			column = (Node *) ((RelabelType *) column)->arg;
		if (!IsA(column, Var) || ((Var *) column)->varno != baserel->relid ||
			((Var *) column)->varattno != attnum || ((Var *) column)->varlevelsup != 0)
			continue;
		other_relids = pull_varnos(root, other);
		return !bms_is_empty(other_relids) && !bms_overlap(other_relids, baserel->relids) &&
			!contain_volatile_functions(other);
	}
	return false;
}

typedef struct EcColumnArg
{
	Index		relid;
	AttrNumber	attnum;
} EcColumnArg;

static bool
ec_member_is_column(PlannerInfo *root, RelOptInfo *rel, EquivalenceClass *ec,
					EquivalenceMember *em, void *arg)
{
	EcColumnArg *column = arg;
	Node	   *expr = (Node *) em->em_expr;

	while (IsA(expr, RelabelType))
		expr = (Node *) ((RelabelType *) expr)->arg;
	return IsA(expr, Var) && ((Var *) expr)->varno == column->relid &&
		((Var *) expr)->varattno == column->attnum;
}

/* The other relations a join clause on this column needs, or NULL if there is none. */
static Relids
outer_relids_for_column(PlannerInfo *root, RelOptInfo *baserel, AttrNumber attnum)
{
	ListCell   *lc;
	EcColumnArg arg = {baserel->relid, attnum};
	List	   *clauses;

	foreach(lc, baserel->joininfo)
	{
		RestrictInfo *rinfo = lfirst(lc);

		if (is_join_equality(root, rinfo, baserel, attnum))
			return bms_difference(rinfo->clause_relids, baserel->relids);
	}
	clauses = generate_implied_equalities_for_column(root, baserel, ec_member_is_column,
													 &arg, baserel->lateral_referencers);
	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst(lc);

		return bms_difference(rinfo->clause_relids, baserel->relids);
	}
	return NULL;
}

List *
sgfdw_path_private(List *sort_nodes, Const *limit, Const *offset, List *aggregation,
				   List *scan_tlist)
{
	Node	   *items[SgPathPrivateCount];

	items[SgPathPrivateSortKeys] = (Node *) sort_nodes;
	items[SgPathPrivateLimit] = limit ? (Node *) limit
		: (Node *) makeNullConst(INT8OID, -1, InvalidOid);
	items[SgPathPrivateOffset] = offset ? (Node *) offset
		: (Node *) makeNullConst(INT8OID, -1, InvalidOid);
	items[SgPathPrivateAggregation] = (Node *) aggregation;
	items[SgPathPrivateScanTlist] = (Node *) scan_tlist;
	return sgfdw_list_of(items, SgPathPrivateCount);
}

/*
 * get_path_keys() lists column sets the FDW can look up cheaply, with the rows expected
 * per lookup. Each becomes a path parameterised by the relations that supply those
 * columns' values, which the planner can use on the inner side of a nested loop.
 */
static void
add_parameterised_paths(PlannerInfo *root, RelOptInfo *baserel, SgPlanState *state,
						SgTable *table)
{
	PyObject   *keys = sgfdw_call_method(table->instance, "get_path_keys", NULL, NULL,
										 "get_path_keys()");
	PyObject   *iterator = PyObject_GetIter(keys);
	PyObject   *key;

	if (iterator == NULL)
		sgfdw_report_python_error(ERRCODE_FDW_INVALID_DATA_TYPE, "get_path_keys() result");
	while ((key = PyIter_Next(iterator)) != NULL)
	{
		PyObject   *columns;
		PyObject   *expected;
		Relids		required_outer = NULL;
		bool		usable = true;
		double		rows;
		Py_ssize_t	ncols;

		if (!PyArg_ParseTuple(key, "OO", &columns, &expected))
			sgfdw_report_python_error(ERRCODE_FDW_INVALID_DATA_TYPE,
									  "get_path_keys() must yield ((columns...), rows) pairs");
		if (PyUnicode_Check(columns))
			columns = PyTuple_Pack(1, columns);
		else
			Py_INCREF(columns);
		rows = number_from(expected, "get_path_keys() rows");
		ncols = PySequence_Size(columns);
		if (ncols < 0)
			sgfdw_report_python_error(ERRCODE_FDW_INVALID_DATA_TYPE, "get_path_keys() columns");
		for (Py_ssize_t i = 0; usable && i < ncols; i++)
		{
			PyObject   *name = PySequence_GetItem(columns, i);
			AttrNumber	attnum;
			Relids		outer;

			if (name == NULL)
				sgfdw_report_python_error(ERRCODE_FDW_INVALID_DATA_TYPE, "get_path_keys() columns");
			attnum = get_attnum(table->relid, sgfdw_cstring(name, "a column of get_path_keys()"));
			Py_DECREF(name);
			outer = attnum > 0 ? outer_relids_for_column(root, baserel, attnum) : NULL;
			if (outer == NULL)
				usable = false;
			else
				required_outer = bms_union(required_outer, outer);
		}
		Py_DECREF(columns);
		Py_DECREF(key);
		if (!usable || ncols <= 0)
			continue;
		required_outer = bms_union(required_outer, baserel->lateral_relids);
		/* The planner builds the ParamPathInfo (and its clauses) for these relids. */
		get_baserel_parampathinfo(root, baserel, required_outer);
		rows = clamp_row_est(rows);
		add_path(baserel, (Path *) make_foreign_path(root, baserel, rows, state->startup_cost,
													 state->startup_cost + run_cost(state, rows),
													 NIL, required_outer, NIL));
	}
	Py_DECREF(iterator);
	Py_DECREF(keys);
	if (PyErr_Occurred())
		sgfdw_report_python_error(0, "get_path_keys()");
}

void
sgfdwGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	SgPlanState *state = baserel->fdw_private;
	SgTable    *table = sgfdw_get_table(foreigntableid);
	Cost		total = state->startup_cost + run_cost(state, baserel->rows);

	add_path(baserel, (Path *) make_foreign_path(root, baserel, baserel->rows,
												 state->startup_cost, total, NIL,
												 baserel->lateral_relids, NIL));
	if (root->query_pathkeys)
		plan_sort_pushdown(root, baserel, state, table);
	if (state->sorted_pathkeys)
		add_path(baserel, (Path *) make_foreign_path(root, baserel, baserel->rows,
													 state->startup_cost, total,
													 state->sorted_pathkeys,
													 baserel->lateral_relids,
													 sgfdw_path_private(state->sort_nodes, NULL, NULL,
																		NIL, NIL)));
	add_parameterised_paths(root, baserel, state, table);
}

/* A LIMIT or OFFSET the FDW can be given: a non-negative constant. NULL means none. */
static bool
constant_count(Node *node, Const **result)
{
	*result = NULL;
	if (node == NULL)
		return true;
	if (!IsA(node, Const))
		return false;
	if (((Const *) node)->constisnull)
		return true;			/* LIMIT NULL is LIMIT ALL */
	if (DatumGetInt64(((Const *) node)->constvalue) < 0)
		return false;
	*result = (Const *) node;
	return true;
}

/*
 * LIMIT/OFFSET may replace PostgreSQL's Limit node only if every row the FDW yields is
 * a row of the result: all quals understood and enforced by the FDW (its opt-in,
 * enforces_quals), no ordering left to do above the scan, nothing that changes the
 * row count between scan and limit.
 */
static bool
quals_enforced(SgPlanState *state, SgTable *table)
{
	ListCell   *lc;
	PyObject   *method;

	if (!state->all_quals_extracted)
		return false;
	if (state->quals == NIL)
		return true;
	foreach(lc, state->quals)
	{
		SgQualDesc *qual = lfirst(lc);

		if (qual->value_index >= 0 && !IsA(list_nth(state->values, qual->value_index), Const))
			return false;
	}
	method = PyObject_GetAttrString(table->instance, "enforces_quals");
	if (method == NULL)
	{
		PyErr_Clear();
		return false;
	}
	return sgfdw_accepts(method,
						 Py_BuildValue("(N)", sgfdw_plan_time_quals(table, state->quals,
																	 state->values)),
						 "enforces_quals()");
}

/*
 * The query's LIMIT and OFFSET, if a scan yielding exactly the rows of the relation
 * below the limit may apply them instead of a Limit node.
 */
bool
sgfdw_limit_to_push(PlannerInfo *root, FinalPathExtraData *extra, Const **limit,
					Const **offset)
{
	Query	   *parse = root->parse;

	if (!extra->limit_needed || parse->commandType != CMD_SELECT ||
		parse->limitOption == LIMIT_OPTION_WITH_TIES || parse->hasTargetSRFs ||
		parse->rowMarks != NIL)
		return false;
	return constant_count(parse->limitCount, limit) && constant_count(parse->limitOffset, offset);
}

/* The rows at most a limit leaves of rows. */
double
sgfdw_limited_rows(double rows, Const *limit, Const *offset)
{
	if (limit)
		rows = Min(rows, (double) DatumGetInt64(limit->constvalue) +
				   (offset ? (double) DatumGetInt64(offset->constvalue) : 0));
	return rows;
}

static void
add_final_path(PlannerInfo *root, RelOptInfo *input_rel, RelOptInfo *final_rel,
			   FinalPathExtraData *extra)
{
	SgPlanState *state = input_rel->fdw_private;
	RelOptInfo *baserel = state->baserel;
	SgTable    *table;
	Const	   *limit;
	Const	   *offset;
	PyObject   *answer;
	double		rows;
	Path	   *cheapest = baserel->cheapest_total_path;
	double		fraction;
	bool		pushed;

	if (baserel->lateral_relids != NULL || !sgfdw_limit_to_push(root, extra, &limit, &offset))
		return;
	if (root->sort_pathkeys != NIL && !state->sort_fully_pushed)
		return;
	table = sgfdw_get_table(state->relid);
	if (!quals_enforced(state, table))
		return;

	answer = sgfdw_call_method(table->instance, "can_limit",
							   Py_BuildValue("(NN)",
											 limit ? PyLong_FromLongLong(DatumGetInt64(limit->constvalue)) : Py_NewRef(Py_None),
											 offset ? PyLong_FromLongLong(DatumGetInt64(offset->constvalue)) : Py_NewRef(Py_None)),
							   NULL, "can_limit()");
	pushed = sgfdw_truth(answer, "can_limit() result");
	Py_DECREF(answer);
	if (!pushed)
		return;

	rows = sgfdw_limited_rows(baserel->rows, limit, offset);
	fraction = baserel->rows > 0 ? rows / baserel->rows : 1;
	/* Cheaper than Limit over the scan: the FDW stops early and nothing is discarded. */
	add_path(final_rel, (Path *)
			 make_upper_path(root, baserel, root->upper_targets[UPPERREL_FINAL],
							 clamp_row_est(rows), state->startup_cost,
							 state->startup_cost +
							 (cheapest->total_cost - cheapest->startup_cost) * fraction * 0.5,
							 NIL,
							 sgfdw_path_private(root->sort_pathkeys ? state->sort_nodes : NIL,
												limit, offset, NIL, NIL)));
}

void
sgfdwGetForeignUpperPaths(PlannerInfo *root, UpperRelationKind stage,
						  RelOptInfo *input_rel, RelOptInfo *output_rel, void *extra)
{
	SgPlanState *state = input_rel->fdw_private;
	ForeignPath *aggregated = sgfdw_aggregation_path(input_rel);

	/* Ordering and limiting the groups of an aggregation the FDW computes. */
	if (aggregated != NULL)
	{
		if (stage == UPPERREL_ORDERED)
			sgfdw_add_ordered_aggregation_path(root, aggregated, output_rel);
		else if (stage == UPPERREL_FINAL)
			sgfdw_add_limited_aggregation_path(root, aggregated, output_rel, extra);
		return;
	}
	/* Only a query on this one foreign relation qualifies (its rel, or the ordered rel). */
	if (state == NULL || (input_rel->reloptkind != RELOPT_BASEREL &&
						  input_rel->reloptkind != RELOPT_UPPER_REL))
		return;
	if (stage == UPPERREL_ORDERED)
	{
		if (state->sort_fully_pushed)
			output_rel->fdw_private = state;
	}
	else if (stage == UPPERREL_FINAL)
		add_final_path(root, input_rel, output_rel, extra);
	else if (stage == UPPERREL_GROUP_AGG && input_rel->reloptkind == RELOPT_BASEREL &&
			 input_rel->lateral_relids == NULL)
	{
		SgTable    *table = sgfdw_get_table(state->relid);

		/* No row may be filtered out after it was aggregated. */
		if (PyObject_HasAttrString(table->instance, "can_aggregate") &&
			quals_enforced(state, table))
			sgfdw_add_aggregate_path(root, input_rel, output_rel, extra, table,
									 state->startup_cost, run_cost(state, 1));
	}
}

static List *
needed_columns(SgPlanState *state)
{
	List	   *columns = NIL;
	int			member = -1;

	while ((member = bms_next_member(state->attrs_used, member)) >= 0)
		columns = lappend_int(columns, member + FirstLowInvalidHeapAttributeNumber);
	return columns;
}

/*
 * The plan of a scan, or of an aggregation's scan: rel is then the grouped relation
 * and the scan reads the query's one base relation, whose clauses the FDW enforces.
 */
static ForeignScan *
scan_plan(PlannerInfo *root, RelOptInfo *rel, ForeignPath *best_path, List *tlist,
		  List *scan_clauses, Plan *outer_plan)
{
	List	   *pushed = best_path->fdw_private ? best_path->fdw_private
		: sgfdw_path_private(NIL, NULL, NULL, NIL, NIL);
	List	   *aggregation = list_nth(pushed, SgPathPrivateAggregation);
	RelOptInfo *baserel = aggregation == NIL ? rel
		: find_base_rel(root, bms_singleton_member(root->all_baserels));
	SgPlanState *state = baserel->fdw_private;
	List	   *values = NIL;
	bool		all_extracted;
	List	   *quals = sgfdw_extract_quals(root, baserel,
											aggregation == NIL ? scan_clauses
											: baserel->baserestrictinfo,
											&values, &all_extracted);
	List	   *filters;
	List	   *checked = sgfdw_take_filters(aggregation == NIL ? scan_clauses
											 : baserel->baserestrictinfo,
											 state->filters, baserel->relid, state->relid,
											 &values, &filters);
	Node	   *items[SgScanPrivateCount] = {0};

	/* Its trees' values after the quals' and filters' (each execution's, scan.c). */
	if (aggregation != NIL)
		aggregation = sgfdw_aggregation_plan_values(sgfdw_get_table(state->relid),
													aggregation, &values);
	items[SgScanPrivateQuals] = (Node *) sgfdw_quals_to_nodes(quals);
	items[SgScanPrivateColumns] = (Node *) (aggregation == NIL ? needed_columns(state)
											: sgfdw_aggregation_columns(aggregation));
	items[SgScanPrivateSortKeys] = list_nth(pushed, SgPathPrivateSortKeys);
	items[SgScanPrivateLimit] = list_nth(pushed, SgPathPrivateLimit);
	items[SgScanPrivateOffset] = list_nth(pushed, SgPathPrivateOffset);
	items[SgScanPrivateAggregation] = (Node *) aggregation;
	items[SgScanPrivateFilters] = (Node *) filters;
	/*
	 * PostgreSQL rechecks every clause but the accepted filters: quals are hints to the
	 * FDW (but an aggregation's, which the FDW enforces; its groups are filtered by
	 * the HAVING clauses it does not compute here).
	 */
	return make_foreignscan(tlist, aggregation == NIL ? extract_actual_clauses(checked, false)
							: (List *) copyObject(sgfdw_aggregation_local_having(root,
																				 aggregation)),
							aggregation == NIL ? baserel->relid : 0, values,
							sgfdw_list_of(items, SgScanPrivateCount),
							list_nth(pushed, SgPathPrivateScanTlist), NIL, outer_plan);
}

/* The plan of a scan, an aggregation's scan or a join's (join.c). */
ForeignScan *
sgfdwGetForeignPlan(PlannerInfo *root, RelOptInfo *rel, Oid foreigntableid,
					ForeignPath *best_path, List *tlist, List *scan_clauses, Plan *outer_plan)
{
	if (IS_JOIN_REL(rel))
		return sgfdw_join_plan(root, rel, tlist, outer_plan);
	return scan_plan(root, rel, best_path, tlist, scan_clauses, outer_plan);
}
