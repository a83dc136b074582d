/*
 * join.c
 *		Joins of foreign tables computed by the FDW: a foreign scan (scanrelid 0) whose
 *		rows are the joined rows (GetForeignJoinPaths).
 *
 * The FDW's optional can_join() is offered an inner, left, right, full, semi or anti
 * join (EXISTS, NOT EXISTS, IN (SELECT ...)) of tables it serves with one server, user
 * mapping and class (or of such a join and one more table, or of a table and a join
 * in a semi or anti join's inner side) as plain data (sgfdw.join). It is all or
 * nothing: the FDW enforces every restriction clause of every table (each must be a
 * Qual), every join clause and every clause applied above an outer join (each must be
 * an expression tree, expression.c), since a restriction of an outer join's nullable
 * side cannot be applied after the join. The one exception: the clauses of an inner
 * join (not nested in another pushed join) that the FDW refuses are applied by
 * PostgreSQL to the joined rows, as postgres_fdw's local conditions. Anything else --
 * row locks (EvalPlanQual would need the joined rows rebuilt), whole-row references,
 * system columns, placeholders, lateral references, pseudo-constant clauses, writes --
 * keeps PostgreSQL's own join.
 *
 * The plan keeps the joined tables, the tree of join steps with their clauses and the
 * output columns (fdw_scan_tlist) in fdw_private; the values the quals and clauses read
 * are fdw_exprs, evaluated when the scan starts (the quals' first, then the clauses'
 * in the order they are described).
 */
#include "sgfdw.h"

#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

/* What join planning learnt about a join relation (joinrel->fdw_private). */
typedef struct SgJoinState
{
	bool		pushed;			/* a path computing it remotely was added */
	List	   *relations;		/* IntList: the range table index of relation i */
	List	   *tree;			/* its step (SgJoinStepField), clauses as expressions */
	List	   *local;			/* an inner join's clauses PostgreSQL applies to its rows */
	double		input_rows;		/* the rows its tables yield before joining */
	double		width;			/* the FDW's width of its widest table's rows */
} SgJoinState;

/* One step of a join (its clauses are planner expressions until described). */
enum SgJoinStepField
{
	SgJoinStepKind,				/* Integer: the JoinType */
	SgJoinStepLeft,				/* Integer: a relation's index, or a nested step */
	SgJoinStepRight,
	SgJoinStepClauses,			/* List of Expr: ON */
	SgJoinStepFilters,			/* List of Expr: applied to the joined rows */
	SgJoinStepFieldCount
};

/* ForeignScan.fdw_private[SgScanPrivateJoin]. */
enum SgJoinField
{
	SgJoinRelations,			/* per relation: SgJoinedField */
	SgJoinTree,					/* the outermost step */
	SgJoinOutput,				/* per output column: IntList (relation index, attnum) */
	SgJoinQualValueCount,		/* Integer: the quals' values come first in fdw_exprs */
	SgJoinFieldCount
};

enum SgJoinedField
{
	SgJoinedRelid,				/* Integer: the foreign table's OID */
	SgJoinedRtindex,			/* Integer: its range table index */
	SgJoinedQuals,				/* its quals' descriptions (quals.c) */
	SgJoinedFieldCount
};

static const char *const kind_names[] = {
	[JOIN_INNER] = "inner", [JOIN_LEFT] = "left", [JOIN_FULL] = "full",
	[JOIN_RIGHT] = "right", [JOIN_SEMI] = "semi", [JOIN_ANTI] = "anti"
};

/* Columns the join may read: user columns of its own tables. */
static bool
plain_columns_only(Node *node, Relids relids)
{
	List	   *vars = pull_var_clause(node, PVC_INCLUDE_PLACEHOLDERS);
	ListCell   *lc;

	foreach(lc, vars)
	{
		Var		   *var = lfirst(lc);

		if (!IsA(var, Var) || var->varattno <= 0 || var->varlevelsup != 0 ||
			!bms_is_member(var->varno, relids))
			return false;
	}
	return true;
}

static int
relation_index(List *relations, Index rtindex)
{
	ListCell   *lc;

	foreach(lc, relations)
		if (lfirst_int(lc) == (int) rtindex)
			return foreach_current_index(lc);
	elog(ERROR, "relation %u is not part of the join", rtindex);
}

/*
 * The step a side stands for, its relations appended to *relations: a base foreign
 * table every restriction clause of which is a Qual, or a join already pushed.
 */
static Node *
side_of(PlannerInfo *root, RelOptInfo *side, List **relations, double *input_rows,
		double *width)
{
	if (IS_SIMPLE_REL(side))
	{
		ListCell   *lc;
		List	   *values = NIL;
		bool		all_extracted;

		if (side->reloptkind != RELOPT_BASEREL || side->fdw_private == NULL ||
			!plain_columns_only((Node *) side->reltarget->exprs, side->relids))
			return NULL;
		foreach(lc, side->baserestrictinfo)
		{
			RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

			if (rinfo->pseudoconstant ||
				!plain_columns_only((Node *) rinfo->clause, side->relids))
				return NULL;
		}
		sgfdw_extract_quals(root, side, side->baserestrictinfo, &values, &all_extracted);
		if (!all_extracted)
			return NULL;
		*relations = lappend_int(*relations, side->relid);
		*input_rows += side->rows;
		*width = Max(*width, side->reltarget->width);
		return (Node *) makeInteger(list_length(*relations) - 1);
	}
	else
	{
		SgJoinState *state = side->fdw_private;
		List	   *renumbered = NIL;

		/* Its local clauses would have to be applied before this join. */
		if (state == NULL || !state->pushed || state->local != NIL)
			return NULL;
		/* Its relations' indexes are the same here: they come first. */
		Assert(*relations == NIL);
		renumbered = list_copy(state->relations);
		*relations = renumbered;
		*input_rows += state->input_rows;
		*width = Max(*width, state->width);
		return (Node *) copyObject(state->tree);
	}
}

/* Appends the relations a step reads, their index shifted, for the right side. */
static Node *
shifted_side(Node *side, int shift)
{
	List	   *step;

	if (IsA(side, Integer))
		return (Node *) makeInteger(intVal(side) + shift);
	step = list_copy((List *) side);
	list_nth_cell(step, SgJoinStepLeft)->ptr_value =
		shifted_side(list_nth(step, SgJoinStepLeft), shift);
	list_nth_cell(step, SgJoinStepRight)->ptr_value =
		shifted_side(list_nth(step, SgJoinStepRight), shift);
	return (Node *) step;
}

/* ---- descriptions as Python objects (sgfdw.join) ---- */

/*
 * How a description's values are given: planning (values.exprs gets the clauses'
 * values), EXPLAIN without execution (as planning), or a running scan (node, evaluate).
 */
typedef struct SgJoinValues
{
	SgExpressionScope scope;
	SgExpressionValues values;
	List	   *qual_values;	/* planning: the quals' values */
	ForeignScanState *node;		/* else the scan */
	bool		evaluate;
} SgJoinValues;

/* The clauses' trees, NULL (no exception) if one cannot be described. */
static PyObject *
expression_tuple(List *clauses, SgJoinValues *how)
{
	PyObject   *tuple = PyTuple_New(list_length(clauses));
	ListCell   *lc;

	SGFDW_CHECK(tuple, "describing the join");
	foreach(lc, clauses)
	{
		PyObject   *tree = sgfdw_expression(lfirst(lc), &how->scope, &how->values);

		if (tree == NULL)
		{
			Py_DECREF(tuple);
			return NULL;
		}
		PyTuple_SET_ITEM(tuple, foreach_current_index(lc), tree);
	}
	return tuple;
}

/* The JoinStep (or relation index) a step stands for, NULL if a clause is not described. */
static PyObject *
step_object(Node *step, SgJoinValues *how)
{
	static PyObject *step_class = NULL;
	List	   *fields;
	PyObject   *parts[4];

	if (IsA(step, Integer))
		return PyLong_FromLong(intVal(step));
	if (step_class == NULL)
		step_class = sgfdw_bridge_attr("JoinStep");
	fields = (List *) step;
	parts[0] = step_object(list_nth(fields, SgJoinStepLeft), how);
	parts[1] = parts[0] ? step_object(list_nth(fields, SgJoinStepRight), how) : NULL;
	parts[2] = parts[1] ? expression_tuple(list_nth(fields, SgJoinStepClauses), how) : NULL;
	parts[3] = parts[2] ? expression_tuple(list_nth(fields, SgJoinStepFilters), how) : NULL;
	if (parts[3] == NULL)
	{
		for (int i = 0; i < 3; i++)
			Py_XDECREF(parts[i]);
		return NULL;
	}
	return sgfdw_call(step_class,
					  Py_BuildValue("(sNNNN)",
									kind_names[intVal(list_nth(fields, SgJoinStepKind))],
									parts[0], parts[1], parts[2], parts[3]),
					  NULL, "describing the join");
}

static PyObject *
relation_name(Oid relid)
{
	return sgfdw_str(quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												get_rel_name(relid)));
}

/* Of the quals, the comparisons with a value that is NULL in this execution hold for no row. */
static void
contradict_null_comparisons(ForeignScanState *node, PyObject *quals, List *descriptions,
							Oid relid)
{
	ListCell   *lc;

	foreach(lc, descriptions)
	{
		SgQualDesc *description = lfirst(lc);

		if (description->value_index >= 0 &&
			sgfdw_scan_value_is_null(node, description->value_index))
			sgfdw_contradict_qual(quals, foreach_current_index(lc),
								  get_attname(relid, description->attnum, false),
								  description->attnum);
	}
}

/* A relation's quals, with their values as planning or the scan knows them. */
static PyObject *
quals_object(SgJoinValues *how, SgTable *table, List *quals)
{
	List	   *descriptions = sgfdw_quals_from_nodes(quals);
	PyObject   *result;

	if (how->node == NULL)
		return sgfdw_plan_time_quals(table, descriptions, how->qual_values);
	result = sgfdw_scan_quals(how->node, descriptions, table->relid, how->evaluate);
	if (how->evaluate)
		contradict_null_comparisons(how->node, result, descriptions, table->relid);
	return result;
}

/* The Python Join a description stands for; NULL (no exception) if a clause is not. */
static PyObject *
join_object(List *description, SgJoinValues *how)
{
	static PyObject *table_class = NULL;
	static PyObject *join_class = NULL;
	List	   *relations = list_nth(description, SgJoinRelations);
	List	   *output = list_nth(description, SgJoinOutput);
	PyObject   *tables = PyTuple_New(list_length(relations));
	PyObject  **columns = palloc(sizeof(PyObject *) * list_length(relations));
	PyObject   *outputs = PyTuple_New(list_length(output));
	PyObject   *tree;
	ListCell   *lc;

	if (table_class == NULL)
	{
		table_class = sgfdw_bridge_attr("JoinedTable");
		join_class = sgfdw_bridge_attr("Join");
	}
	SGFDW_CHECK(tables, "describing the join");
	SGFDW_CHECK(outputs, "describing the join");
	how->scope.varnos = NIL;
	how->scope.relids = NIL;
	foreach(lc, relations)
	{
		List	   *fields = lfirst(lc);

		how->scope.varnos = lappend_int(how->scope.varnos,
										intVal(list_nth(fields, SgJoinedRtindex)));
		how->scope.relids = lappend_oid(how->scope.relids,
										(Oid) intVal(list_nth(fields, SgJoinedRelid)));
		columns[foreach_current_index(lc)] = PySet_New(NULL);
		SGFDW_CHECK(columns[foreach_current_index(lc)], "describing the join");
	}
	foreach(lc, output)
	{
		int			index = linitial_int(lfirst(lc));
		PyObject   *name = sgfdw_str(get_attname(list_nth_oid(how->scope.relids, index),
												 lsecond_int(lfirst(lc)), false));

		if (PySet_Add(columns[index], name) < 0)
			sgfdw_report_python_error(0, "describing the join");
		PyTuple_SET_ITEM(outputs, foreach_current_index(lc),
						 Py_BuildValue("(iN)", index, name));
	}
	foreach(lc, relations)
	{
		List	   *fields = lfirst(lc);
		SgTable    *table = sgfdw_get_table(list_nth_oid(how->scope.relids,
														 foreach_current_index(lc)));
		PyObject   *args;

		args = Py_BuildValue("(NONN)", relation_name(table->relid), table->instance,
							 quals_object(how, table, list_nth(fields, SgJoinedQuals)),
							 PyFrozenSet_New(columns[foreach_current_index(lc)]));
		SGFDW_CHECK(args, "describing the join");
		Py_DECREF(columns[foreach_current_index(lc)]);
		PyTuple_SET_ITEM(tables, foreach_current_index(lc),
						 sgfdw_call(table_class, args, NULL, "describing the join"));
	}
	tree = step_object(list_nth(description, SgJoinTree), how);
	if (tree == NULL)
	{
		Py_DECREF(tables);
		Py_DECREF(outputs);
		return NULL;
	}
	return sgfdw_call(join_class, Py_BuildValue("(NNN)", tables, tree, outputs), NULL,
					  "describing the join");
}

/* ---- planning ---- */

/*
 * The description of the join of state as a plan holds it (output: the columns of
 * tlist); *qual_values gets the values its quals read.
 */
static List *
describe(PlannerInfo *root, SgJoinState *state, List *tlist, List **qual_values)
{
	Node	   *fields[SgJoinFieldCount];
	List	   *relations = NIL;
	List	   *output = NIL;
	ListCell   *lc;

	*qual_values = NIL;
	foreach(lc, state->relations)
	{
		RelOptInfo *baserel = find_base_rel(root, lfirst_int(lc));
		Node	   *joined[SgJoinedFieldCount];
		bool		all_extracted;

		joined[SgJoinedRelid] = (Node *) makeInteger(
			(int) planner_rt_fetch(baserel->relid, root)->relid);
		joined[SgJoinedRtindex] = (Node *) makeInteger(baserel->relid);
		joined[SgJoinedQuals] = (Node *) sgfdw_quals_to_nodes(
			sgfdw_extract_quals(root, baserel, baserel->baserestrictinfo, qual_values,
								&all_extracted));
		relations = lappend(relations, sgfdw_list_of(joined, SgJoinedFieldCount));
	}
	foreach(lc, tlist)
	{
		Var		   *var = (Var *) lfirst_node(TargetEntry, lc)->expr;

		output = lappend(output, list_make2_int(relation_index(state->relations, var->varno),
												var->varattno));
	}
	fields[SgJoinRelations] = (Node *) relations;
	fields[SgJoinTree] = (Node *) state->tree;
	fields[SgJoinOutput] = (Node *) output;
	fields[SgJoinQualValueCount] = (Node *) makeInteger(list_length(*qual_values));
	return sgfdw_list_of(fields, SgJoinFieldCount);
}

/*
 * The columns the scan yields: the columns of the join relation's target (which may
 * also hold constants, e.g. NULL for a subquery output nobody reads), then those its
 * local clauses read.
 */
static List *
scan_tlist(RelOptInfo *joinrel, SgJoinState *state)
{
	List	   *tlist = add_to_flat_tlist(NIL,
										  pull_var_clause((Node *) joinrel->reltarget->exprs,
														  PVC_INCLUDE_PLACEHOLDERS));

	return add_to_flat_tlist(tlist, pull_var_clause((Node *) state->local,
													PVC_INCLUDE_PLACEHOLDERS));
}

/*
 * The Join as planning sees it, NULL if a clause cannot be described; *values gets
 * every value it reads (the plan's fdw_exprs).
 */
static PyObject *
plan_time_join(List *description, List *qual_values, List **values)
{
	SgJoinValues how = {0};
	PyObject   *join;

	how.qual_values = qual_values;
	how.values.exprs = list_copy(qual_values);
	join = join_object(description, &how);
	*values = how.values.exprs;
	return join;
}

/* Whether the FDW of the join's first table accepts it (can_join). */
static bool
fdw_accepts(PlannerInfo *root, RelOptInfo *joinrel, SgJoinState *state)
{
	List	   *qual_values;
	List	   *values;
	List	   *description;
	SgTable    *first = sgfdw_get_table(planner_rt_fetch(linitial_int(state->relations),
															root)->relid);
	PyObject   *method = sgfdw_optional_attr(first->instance, "can_join");
	PyObject   *offered;
	ListCell   *lc;

	/* (Before describing anything: most FDWs have no can_join.) */
	if (method == NULL)
		return false;
	/* One class serves them all: the one asked speaks for the others. */
	foreach(lc, state->relations)
	{
		SgTable    *table = sgfdw_get_table(planner_rt_fetch(lfirst_int(lc), root)->relid);

		if (Py_TYPE(table->instance) != Py_TYPE(first->instance))
		{
			Py_DECREF(method);
			return false;
		}
	}
	description = describe(root, state, scan_tlist(joinrel, state), &qual_values);
	offered = plan_time_join(description, qual_values, &values);
	if (offered == NULL)
	{
		Py_DECREF(method);
		return false;
	}
	return sgfdw_accepts(method, Py_BuildValue("(N)", offered), "can_join()");
}

/*
 * An inner join the FDW refused with all its clauses: whether it accepts it with the
 * clauses it accepts one by one, added to the join without any; PostgreSQL applies the
 * others (state->local) to the joined rows, as postgres_fdw's local conditions.
 */
static bool
fdw_accepts_some_clauses(PlannerInfo *root, RelOptInfo *joinrel, SgJoinState *state,
						 List *clauses)
{
	ListCell   *step_clauses = list_nth_cell(state->tree, SgJoinStepClauses);
	List	   *accepted = NIL;
	ListCell   *lc;

	step_clauses->ptr_value = NIL;
	state->local = clauses;
	if (!fdw_accepts(root, joinrel, state))
		return false;
	foreach(lc, clauses)
	{
		List	   *tried = lappend(list_copy(accepted), lfirst(lc));

		step_clauses->ptr_value = tried;
		state->local = list_difference_ptr(clauses, tried);
		if (fdw_accepts(root, joinrel, state))
			accepted = tried;
	}
	step_clauses->ptr_value = accepted;
	state->local = list_difference_ptr(clauses, accepted);
	return true;
}

#if PG_VERSION_NUM >= 180000
#define make_join_path(root, rel, rows, startup, total) \
	create_foreign_join_path(root, rel, NULL, rows, 0, startup, total, NIL, NULL, NULL, \
							 NIL, NIL)
#elif PG_VERSION_NUM >= 170000
#define make_join_path(root, rel, rows, startup, total) \
	create_foreign_join_path(root, rel, NULL, rows, startup, total, NIL, NULL, NULL, NIL, NIL)
#else
#define make_join_path(root, rel, rows, startup, total) \
	create_foreign_join_path(root, rel, NULL, rows, startup, total, NIL, NULL, NULL, NIL)
#endif

void
sgfdwGetForeignJoinPaths(PlannerInfo *root, RelOptInfo *joinrel, RelOptInfo *outerrel,
						 RelOptInfo *innerrel, JoinType jointype, JoinPathExtraData *extra)
{
	SgJoinState *state = joinrel->fdw_private;
	List	   *relations = NIL;
	List	   *right_relations = NIL;
	Node	   *left;
	Node	   *right;
	List	   *clauses = NIL;
	List	   *filters = NIL;
	Node	   *step[SgJoinStepFieldCount];
	ListCell   *lc;
	double		input_rows = 0;
	double		width = 0;
	double		remote_rows = joinrel->rows;
	Cost		local_evaluation = 0;
	Cost		startup_cost;
	Cost		total_cost;

	/* A join relation is offered once per pair of sides: one pushed path is enough. */
	if (state != NULL && state->pushed)
		return;
	if (jointype != JOIN_INNER && jointype != JOIN_LEFT && jointype != JOIN_RIGHT &&
		jointype != JOIN_FULL && jointype != JOIN_SEMI && jointype != JOIN_ANTI)
		return;
	if (root->parse->commandType != CMD_SELECT || root->rowMarks != NIL ||
		root->hasPseudoConstantQuals || joinrel->lateral_relids != NULL ||
		!plain_columns_only((Node *) joinrel->reltarget->exprs, joinrel->relids))
		return;
	/* A semi or anti join yields its outer side's rows: none of the inner's columns. */
	if ((jointype == JOIN_SEMI || jointype == JOIN_ANTI) &&
		!plain_columns_only((Node *) joinrel->reltarget->exprs, outerrel->relids))
		return;
	/* A nested join comes first, so that its relations keep their indexes. */
	if (IS_JOIN_REL(innerrel) && IS_JOIN_REL(outerrel))
		return;
	/* (The inner side of a semi or anti join stays inner: it is shifted instead.) */
	if (IS_JOIN_REL(innerrel) && jointype != JOIN_SEMI && jointype != JOIN_ANTI)
	{
		RelOptInfo *swap = outerrel;

		if (jointype == JOIN_LEFT || jointype == JOIN_RIGHT)
			jointype = jointype == JOIN_LEFT ? JOIN_RIGHT : JOIN_LEFT;
		outerrel = innerrel;
		innerrel = swap;
	}
	left = side_of(root, outerrel, &relations, &input_rows, &width);
	if (left == NULL)
		return;
	right = side_of(root, innerrel, &right_relations, &input_rows, &width);
	if (right == NULL)
		return;
	right = shifted_side(right, list_length(relations));
	relations = list_concat(relations, right_relations);

	foreach(lc, extra->restrictlist)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (!plain_columns_only((Node *) rinfo->clause, joinrel->relids))
			return;
		/* Above an outer join, a clause filters the joined rows; else it joins them. */
		if (IS_OUTER_JOIN(jointype) && RINFO_IS_PUSHED_DOWN(rinfo, joinrel->relids))
			filters = lappend(filters, rinfo->clause);
		else
			clauses = lappend(clauses, rinfo->clause);
	}

	if (state == NULL)
	{
		state = palloc0(sizeof(SgJoinState));
		joinrel->fdw_private = state;
	}
	step[SgJoinStepKind] = (Node *) makeInteger(jointype);
	step[SgJoinStepLeft] = left;
	step[SgJoinStepRight] = right;
	step[SgJoinStepClauses] = (Node *) clauses;
	step[SgJoinStepFilters] = (Node *) filters;
	state->relations = relations;
	state->tree = sgfdw_list_of(step, SgJoinStepFieldCount);
	state->local = NIL;
	state->input_rows = input_rows;
	state->width = width;
	if (!fdw_accepts(root, joinrel, state) &&
		(jointype != JOIN_INNER || clauses == NIL ||
		 !fdw_accepts_some_clauses(root, joinrel, state, clauses)))
		return;
	state->pushed = true;

	/*
	 * One remote statement: its tables are read and joined remotely (at an operator's
	 * cost per row read), and only the joined rows are transferred, each costed as a
	 * row of the first table's scan as wide as the widest table's (a row's cost is
	 * mostly per row, not per byte); a selective join thus beats fetching both sides.
	 */
	if (state->local != NIL)
	{
		/* The remote rows are those the local clauses then filter. */
		QualCost	local_cost;

		cost_qual_eval(&local_cost, state->local, root);
		remote_rows = clamp_row_est(
			joinrel->rows / Max(clauselist_selectivity(root, state->local, 0, JOIN_INNER,
													   extra->sjinfo), 1e-10));
		remote_rows = Min(remote_rows, outerrel->rows * innerrel->rows);
		local_evaluation = local_cost.startup + remote_rows * local_cost.per_tuple;
	}
	sgfdw_scan_costs(find_base_rel(root, linitial_int(relations)), remote_rows, width,
					 &startup_cost, &total_cost);
	total_cost += input_rows * cpu_operator_cost + local_evaluation;
	add_path(joinrel, (Path *) make_join_path(root, joinrel, joinrel->rows, startup_cost,
											  total_cost));
}

/* The plan of a pushed join (rel is the join relation). */
ForeignScan *
sgfdw_join_plan(PlannerInfo *root, RelOptInfo *joinrel, List *tlist, Plan *outer_plan)
{
	SgJoinState *state = joinrel->fdw_private;
	List	   *scan = scan_tlist(joinrel, state);
	List	   *qual_values;
	List	   *values;
	List	   *description = describe(root, state, scan, &qual_values);
	PyObject   *join = plan_time_join(description, qual_values, &values);
	Node	   *items[SgScanPrivateCount] = {0};

	if (join == NULL)
		elog(ERROR, "a clause of a pushed join is no longer describable");
	Py_DECREF(join);
	items[SgScanPrivateJoin] = (Node *) description;
	/* Nothing but the local clauses is checked again: the FDW enforces the others. */
	return make_foreignscan(tlist, state->local, 0, values,
							sgfdw_list_of(items, SgScanPrivateCount), scan, NIL, outer_plan);
}

/* ---- execution ---- */

/*
 * The range table index the running plan gives the join's first table (whose FDW
 * instance runs it). setrefs shifted the plan's indexes -- a subquery's by its offset
 * in the final range table -- but not the plan-time ones the description holds; the
 * shift keeps their order, so the first table is the member of scanned (the plan's
 * base relids) at the place its planning index has among the join's.
 */
Index
sgfdw_join_first_rtindex(List *description, Relids scanned)
{
	List	   *relations = list_nth(description, SgJoinRelations);
	int			first = intVal(list_nth(linitial(relations), SgJoinedRtindex));
	int			lower = 0;
	int			member = -1;
	ListCell   *lc;

	foreach(lc, relations)
		if (intVal(list_nth(lfirst(lc), SgJoinedRtindex)) < first)
			lower++;
	for (int i = 0; i <= lower; i++)
		member = bms_next_member(scanned, member);
	Assert(member > 0);
	return (Index) member;
}

/* Every joined table's FDW takes part in the transaction. */
void
sgfdw_join_touch(List *description)
{
	ListCell   *lc;

	foreach(lc, (List *) list_nth(description, SgJoinRelations))
		sgfdw_xact_touch(sgfdw_get_table((Oid) intVal(list_nth(lfirst(lc),
																 SgJoinedRelid)))->instance);
}

/*
 * A reader of the join's rows into a tuple of desc (the scan's targetlist); the
 * Python names of the output columns (a new reference: the reader borrows them).
 */
PyObject *
sgfdw_join_reader(List *description, TupleDesc desc, SgRowReader *rows)
{
	List	   *relations = list_nth(description, SgJoinRelations);
	List	   *output = list_nth(description, SgJoinOutput);
	PyObject   *names = PyTuple_New(list_length(output));
	ListCell   *lc;

	SGFDW_CHECK(names, "reading the join");
	foreach(lc, output)
	{
		int			index = linitial_int(lfirst(lc));
		Oid			relid = (Oid) intVal(list_nth(list_nth(relations, index), SgJoinedRelid));

		PyTuple_SET_ITEM(names, foreach_current_index(lc),
						 sgfdw_str(psprintf("r%d.%s", index + 1,
											get_attname(relid, lsecond_int(lfirst(lc)),
														false))));
	}
	sgrow_init_outputs(rows, names, desc, "the join of foreign tables");
	return names;
}

/* The Join with its values for this execution (evaluate false: EXPLAIN only). */
static PyObject *
execution_join(ForeignScanState *node, List *description, bool evaluate)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	int			first = intVal(list_nth(description, SgJoinQualValueCount));
	SgJoinValues how = {0};
	PyObject   *join;

	how.node = node;
	how.evaluate = evaluate;
	if (evaluate)
	{
		how.values.evaluated = PyTuple_New(list_length(plan->fdw_exprs) - first);
		SGFDW_CHECK(how.values.evaluated, "describing the join");
		for (int i = first; i < list_length(plan->fdw_exprs); i++)
			PyTuple_SET_ITEM(how.values.evaluated, i - first,
							 sgfdw_scan_value(node, i, true));
	}
	join = join_object(description, &how);
	Py_XDECREF(how.values.evaluated);
	if (join == NULL)
		elog(ERROR, "a clause of a pushed join is not describable");
	return join;
}

/* execute_join(join) of the first table's FDW: the iterator of the joined rows. */
PyObject *
sgfdw_join_execute(ForeignScanState *node, PyObject *instance, List *description)
{
	static PyObject *execute_join = NULL;

	if (execute_join == NULL)
		execute_join = sgfdw_bridge_attr("execute_join");
	return sgfdw_call(execute_join,
					  Py_BuildValue("(ON)", instance, execution_join(node, description, true)),
					  NULL, "execute_join()");
}

/* EXPLAIN of a pushed join: its Relations line, then the FDW's explain_join() lines. */
void
sgfdw_join_explain(ForeignScanState *node, PyObject *instance, List *description,
				   ExplainState *es)
{
	static PyObject *explain_join = NULL;
	PyObject   *join = execution_join(node, description, false);
	PyObject   *relations = sgfdw_call_method(join, "describe", NULL, NULL, "Join.describe()");

	if (explain_join == NULL)
		explain_join = sgfdw_bridge_attr("explain_join");
	ExplainPropertyText("Relations", sgfdw_cstring(relations, "the join's relations"), es);
	Py_DECREF(relations);
	sgfdw_explain_lines(sgfdw_call(explain_join,
								   Py_BuildValue("(ONO)", instance, join,
												 es->verbose ? Py_True : Py_False),
								   NULL, "explain_join()"),
						"explain_join()", es);
}
