/*
 * upper.c
 *		Grouping and aggregation computed by the FDW: a foreign scan whose rows are the
 *		groups (an upper path of UPPERREL_GROUP_AGG).
 *
 * The FDW's optional can_aggregate() is offered the query's grouping when it can be
 * told as plain data (sgfdw.aggregation): GROUP BY plain columns, aggregates count(*)
 * and count/sum/avg/min/max, bool_and/bool_or/every, bit_and/bit_or and the standard
 * deviations and variances of one plain column (also of its DISTINCT values), without
 * FILTER or ORDER BY. An FDW whose aggregates_expressions is true is also offered
 * grouping keys, aggregate arguments and FILTER clauses that are expressions
 * (expression.c trees); their values (parameters of a generic plan or an outer query)
 * go through the plan's fdw_exprs and each execution describes the aggregation with
 * them. One whose
 * aggregates_ordered is true is also offered array_agg, string_agg and aggregates with
 * ORDER BY (its keys in their types' default order), as trees.
 * Whatever else is not offered, so PostgreSQL aggregates as before. Rows cannot be
 * filtered once aggregated, so planner.c offers it only when the FDW enforces every
 * restriction clause (enforces_quals), as for LIMIT. The scan's fdw_scan_tlist holds the
 * grouping columns, then the distinct aggregates of the output and of HAVING; the plan's
 * targetlist and its filter, HAVING, are computed from them locally (setrefs.c matches
 * their Vars and Aggrefs against that list). An FDW with the optional
 * can_filter_aggregation() is offered each HAVING clause, its outputs as Output nodes;
 * the plan's filter keeps only the clauses it declines.
 */
#include "sgfdw.h"

#include "catalog/pg_aggregate.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_namespace.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/typcache.h"

/* The cost of a remotely sorted aggregation relative to the unsorted one. */
#define REMOTE_SORT_MULTIPLIER 1.05

/* What a pushed aggregation is (ForeignScan.fdw_private[SgScanPrivateAggregation]). */
enum SgAggregationField
{
	SgAggregationGroupBy,		/* IntList: the grouping columns' attnums */
	SgAggregationGroupExprs,	/* List of the grouping keys that are expressions */
	SgAggregationAggregates,	/* List of the aggregates' descriptions */
	SgAggregationVarno,			/* Integer: the table's range table index in the
								 * expressions (setrefs.c changes only the plan's) */
	SgAggregationHaving,		/* List of the HAVING clauses the FDW computes */
	SgAggregationOutputs,		/* the scan's targetlist as planned (the outputs those
								 * clauses name; setrefs.c shifts the plan's Vars) */
	SgAggregationFirstValue,	/* Integer: the index of its trees' first value in
								 * fdw_exprs, -1: they have none */
	SgAggregationFieldCount
};

/* One aggregate's description. */
enum SgAggregateField
{
	SgAggregateFunction,		/* String: schema-qualified name */
	SgAggregateAttnum,			/* Integer: the column it reads, 0: count(*) */
	SgAggregateType,			/* Integer: its result type's OID */
	SgAggregateCollation,		/* String: the collation it compares with, "": default */
	SgAggregateDistinct,		/* Integer, as a bool: of the distinct values */
	SgAggregateArgument,		/* the argument when it is an expression, else NULL */
	SgAggregateFilter,			/* the FILTER clause, NULL: none */
	SgAggregateExtraArguments,	/* List of the arguments after the first (Exprs) */
	SgAggregateOrder,			/* List of its ORDER BY keys: (Expr, Integer descending,
								 * Integer nulls first) */
	SgAggregateFieldCount
};

/* The aggregates of pg_catalog that are offered (of one argument: no ORDER BY needed). */
static const char *const offered_aggregates[] = {
	"count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "bit_and", "bit_or",
	"stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp"
};

/* And to an FDW that knows ordered aggregates: those whose result is the rows' order. */
static const char *const ordered_aggregates[] = {"array_agg", "string_agg"};

/* What the FDW asked to be offered beyond plain columns and aggregates. */
typedef struct SgOffer
{
	bool		expressions;	/* aggregates_expressions: trees */
	bool		ordered;		/* aggregates_ordered: ordered aggregates */
} SgOffer;

/* Whether name is one of names. */
static bool
named_in(const char *name, const char *const *names, int count)
{
	for (int i = 0; i < count; i++)
	{
		if (strcmp(name, names[i]) == 0)
			return true;
	}
	return false;
}

/* The plain column of this relation that node is, under binary-compatible casts. */
static Var *
plain_column(Node *node, Index relid)
{
	while (IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (IsA(node, Var) && ((Var *) node)->varno == relid && ((Var *) node)->varattno > 0 &&
		((Var *) node)->varlevelsup == 0)
		return (Var *) node;
	return NULL;
}

/*
 * The tree of expr (a new reference), NULL if it cannot be described. outputs: the
 * scan's targetlist, for a HAVING clause; values: how its values are walked (NULL:
 * planning, not kept).
 */
static PyObject *
expression_tree(Expr *expr, Index varno, Oid relid, List *outputs, SgExpressionValues *values)
{
	SgExpressionScope scope = {list_make1_int(varno), list_make1_oid(relid), outputs};
	SgExpressionValues planning = {NIL, NULL, 0};

	return sgfdw_expression(expr, &scope, values ? values : &planning);
}

/* Whether expr can be offered as a tree. */
static bool
offerable(Expr *expr, Index varno, Oid relid)
{
	PyObject   *tree = expression_tree(expr, varno, relid, NIL, NULL);

	Py_XDECREF(tree);
	return tree != NULL;
}

/*
 * The ORDER BY keys of an aggregate (SgAggregateOrder), each by its type's default order
 * and offerable; false if one is not.
 */
static bool
describe_order(Aggref *aggref, Index relid, Oid table_relid, List **keys)
{
	ListCell   *lc;

	*keys = NIL;
	foreach(lc, aggref->aggorder)
	{
		SortGroupClause *clause = lfirst_node(SortGroupClause, lc);
		Expr	   *expr = (Expr *) get_sortgroupclause_expr(clause, aggref->args);
		TypeCacheEntry *type = lookup_type_cache(exprType((Node *) expr),
												 TYPECACHE_LT_OPR | TYPECACHE_GT_OPR);
		Oid			collation = exprCollation((Node *) expr);

		if ((clause->sortop != type->lt_opr && clause->sortop != type->gt_opr) ||
			(OidIsValid(collation) && !get_collation_isdeterministic(collation)) ||
			!offerable(expr, relid, table_relid))
			return false;
		*keys = lappend(*keys, list_make3(copyObject(expr),
										  makeInteger(clause->sortop == type->gt_opr),
										  makeInteger(clause->nulls_first)));
	}
	return true;
}

/*
 * The aggregate's description, NIL if it is not one that is offered (with expressions:
 * also of an expression and with FILTER; ordered: also array_agg and string_agg, and
 * with ORDER BY).
 */
static List *
describe_aggregate(Aggref *aggref, Index relid, Oid table_relid, SgOffer offer)
{
	Node	   *fields[SgAggregateFieldCount];
	Var		   *column = NULL;
	Expr	   *argument = NULL;
	List	   *arguments = NIL;
	List	   *order;
	char	   *name;
	char	   *collation_name;
	ListCell   *lc;

	if ((aggref->aggfilter != NULL &&
		 !(offer.expressions && offerable(aggref->aggfilter, relid, table_relid))) ||
		(aggref->aggorder != NIL && !offer.ordered) ||
		aggref->aggdirectargs != NIL || aggref->aggkind != AGGKIND_NORMAL ||
		aggref->aggsplit != AGGSPLIT_SIMPLE || aggref->agglevelsup != 0 ||
		aggref->aggvariadic || get_func_namespace(aggref->aggfnoid) != PG_CATALOG_NAMESPACE)
		return NIL;
	name = get_func_name(aggref->aggfnoid);
	if (!named_in(name, offered_aggregates, lengthof(offered_aggregates)) &&
		!(offer.ordered && named_in(name, ordered_aggregates, lengthof(ordered_aggregates))))
		return NIL;
	/* Values equal under a nondeterministic collation are not equal remotely. */
	if (aggref->aggdistinct != NIL && OidIsValid(aggref->inputcollid) &&
		!get_collation_isdeterministic(aggref->inputcollid))
		return NIL;
	if (!describe_order(aggref, relid, table_relid, &order))
		return NIL;
	/* The arguments; the ORDER BY's own expressions are junk entries of args. */
	foreach(lc, aggref->args)
	{
		if (!lfirst_node(TargetEntry, lc)->resjunk)
			arguments = lappend(arguments, lfirst_node(TargetEntry, lc)->expr);
	}
	if (!aggref->aggstar)
	{
		if (list_length(arguments) != (strcmp(name, "string_agg") == 0 ? 2 : 1))
			return NIL;
		argument = linitial(arguments);
		column = plain_column((Node *) argument, relid);
		if (column != NULL)
			argument = NULL;
		else if (!offer.expressions || !offerable(argument, relid, table_relid))
			return NIL;
		foreach(lc, list_copy_tail(arguments, 1))
		{
			if (!offerable(lfirst(lc), relid, table_relid))
				return NIL;
		}
	}
	fields[SgAggregateFunction] = (Node *) makeString(psprintf("pg_catalog.%s", name));
	fields[SgAggregateAttnum] = (Node *) makeInteger(column ? column->varattno : 0);
	fields[SgAggregateType] = (Node *) makeInteger((int) aggref->aggtype);
	/* named as sort keys are, so that a user's own "C" is not the built-in one */
	collation_name = sgfdw_collation_sql_name(aggref->inputcollid);
	fields[SgAggregateCollation] = (Node *) makeString(collation_name ? collation_name : "");
	fields[SgAggregateDistinct] = (Node *) makeInteger(aggref->aggdistinct != NIL);
	fields[SgAggregateArgument] = (Node *) copyObject(argument);
	fields[SgAggregateFilter] = (Node *) copyObject(aggref->aggfilter);
	fields[SgAggregateExtraArguments] = (Node *) copyObject(list_copy_tail(arguments, 1));
	fields[SgAggregateOrder] = (Node *) order;
	return sgfdw_list_of(fields, SgAggregateFieldCount);
}

typedef struct Ungrouped
{
	List	   *keys;			/* the grouping keys' targetlist */
	List	   *parts;			/* what was found outside them */
} Ungrouped;

static bool
find_ungrouped(Node *node, void *context)
{
	Ungrouped  *found = context;

	if (node == NULL || tlist_member((Expr *) node, found->keys))
		return false;
	if (IsA(node, Var) || IsA(node, Aggref) || IsA(node, PlaceHolderVar) ||
		IsA(node, WindowFunc) || IsA(node, GroupingFunc))
	{
		found->parts = lappend(found->parts, node);
		return false;
	}
	return expression_tree_walker(node, find_ungrouped, context);
}

/*
 * The parts of expr outside its subexpressions that are grouping keys (entries of
 * tlist): Vars, aggregates and what else only a row has (id % 10 + count(*) grouped by
 * id % 10: the count).
 */
static List *
ungrouped_parts(Node *expr, List *tlist)
{
	Ungrouped	found = {tlist, NIL};

	find_ungrouped(expr, &found);
	return found.parts;
}

/* expr appended to a targetlist. */
static List *
add_entry(List *tlist, Expr *expr)
{
	return lappend(tlist, makeTargetEntry(copyObject(expr), list_length(tlist) + 1, NULL,
										  false));
}

/*
 * The grouping's description and the scan's targetlist (grouping columns, grouping
 * expressions, then each distinct aggregate), or false when it is not one to offer
 * (offer: what the FDW is offered beyond plain columns).
 */
static bool
describe_grouping(PlannerInfo *root, RelOptInfo *baserel, PathTarget *target,
				  Oid relid, SgOffer offer, List **description, List **scan_tlist)
{
	Query	   *parse = root->parse;
	List	   *group_by = NIL;
	List	   *group_exprs = NIL;
	List	   *aggregates = NIL;
	List	   *tlist = NIL;
	ListCell   *lc;
	Node	   *fields[SgAggregationFieldCount];

	foreach(lc, parse->groupClause)
	{
		Expr	   *expr = (Expr *) get_sortgroupclause_expr(lfirst(lc), parse->targetList);
		Oid			collation = exprCollation((Node *) expr);

		/* Equal under a nondeterministic collation is not equal remotely. */
		if (OidIsValid(collation) && !get_collation_isdeterministic(collation))
			return false;
		if (tlist_member(expr, tlist) || list_member(group_exprs, expr))
			continue;
		/* A cast or COLLATE would change the groups: the column itself, or a tree. */
		if (IsA(expr, Var) && plain_column((Node *) expr, baserel->relid) != NULL)
		{
			tlist = add_entry(tlist, expr);
			group_by = lappend_int(group_by, ((Var *) expr)->varattno);
		}
		else if (offer.expressions && offerable(expr, baserel->relid, relid))
			group_exprs = lappend(group_exprs, expr);
		else
			return false;
	}
	foreach(lc, group_exprs)
		tlist = add_entry(tlist, lfirst(lc));
	/* HAVING was made an implicit-AND list of the clauses with aggregates. */
	foreach(lc, list_concat_copy(target->exprs, (List *) parse->havingQual))
	{
		ListCell   *item;

		if (tlist_member(lfirst(lc), tlist))
			continue;
		/* What it computes from: grouping keys and aggregates only. */
		foreach(item, ungrouped_parts(lfirst(lc), tlist))
		{
			List	   *aggregate;

			if (tlist_member(lfirst(item), tlist))
				continue;
			if (!IsA(lfirst(item), Aggref))
				return false;
			aggregate = describe_aggregate(lfirst(item), baserel->relid, relid, offer);
			if (aggregate == NIL)
				return false;
			aggregates = lappend(aggregates, aggregate);
			tlist = lappend(tlist, makeTargetEntry(copyObject(lfirst(item)),
												   list_length(tlist) + 1, NULL, false));
		}
	}
	if (tlist == NIL)
		return false;
	fields[SgAggregationGroupBy] = (Node *) group_by;
	fields[SgAggregationGroupExprs] = (Node *) copyObject(group_exprs);
	fields[SgAggregationAggregates] = (Node *) aggregates;
	fields[SgAggregationVarno] = (Node *) makeInteger(baserel->relid);
	fields[SgAggregationHaving] = NULL;
	fields[SgAggregationOutputs] = NULL;
	fields[SgAggregationFirstValue] = (Node *) makeInteger(-1);
	*description = sgfdw_list_of(fields, SgAggregationFieldCount);
	*scan_tlist = tlist;
	return true;
}

/* A pushed count as Python: an int, None for none (a NULL or null Const). */
static PyObject *
count_object(Node *count)
{
	if (count == NULL || ((Const *) count)->constisnull)
		return Py_NewRef(Py_None);
	return PyLong_FromLongLong(DatumGetInt64(((Const *) count)->constvalue));
}

/* The SortKeys of sort_nodes, each named by the output of aggregation it sorts by. */
static PyObject *
output_sortkeys(PyObject *aggregation, List *sort_nodes)
{
	PyObject   *names = PyObject_GetAttrString(aggregation, "output_names");
	PyObject   *sortkeys = PyTuple_New(list_length(sort_nodes));
	ListCell   *lc;

	SGFDW_CHECK(names, "the aggregation's output_names");
	SGFDW_CHECK(sortkeys, "describing the aggregation's order");
	foreach(lc, sort_nodes)
	{
		int			position = intVal(list_nth(lfirst(lc), SgSortKeyAttnum));

		PyTuple_SET_ITEM(sortkeys, foreach_current_index(lc),
						 sgfdw_sortkey_object(PyTuple_GET_ITEM(names, position - 1), lfirst(lc)));
	}
	Py_DECREF(names);
	return sortkeys;
}

/* An aggregation's description being made a Python object. */
typedef struct Describing
{
	List	   *description;
	SgTable    *table;
	SgExpressionValues *values; /* its trees' values (expression_tree) */
} Describing;

/*
 * The tree of a described expression, which was offerable when planned; outputs: those
 * of the description, for a HAVING clause, else NIL.
 */
static PyObject *
planned_tree(Expr *expr, Describing *how, List *outputs)
{
	PyObject   *tree = expression_tree(expr, intVal(list_nth(how->description,
															 SgAggregationVarno)),
									   how->table->relid, outputs, how->values);

	if (tree == NULL)
		elog(ERROR, "a planned aggregation is no longer describable");
	return tree;
}

/* kwargs[key] = value (a new reference, taken over). */
static void
put_kwarg(PyObject *kwargs, const char *key, PyObject *value)
{
	SGFDW_CHECK(value, "describing the aggregation");
	if (PyDict_SetItemString(kwargs, key, value) < 0)
		sgfdw_report_python_error(0, "describing the aggregation");
	Py_DECREF(value);
}

/* The trees of a description's expressions (planned_tree), a new tuple. */
static PyObject *
planned_trees(List *exprs, Describing *how, List *outputs)
{
	PyObject   *trees = PyTuple_New(list_length(exprs));
	ListCell   *lc;

	SGFDW_CHECK(trees, "describing the aggregation");
	foreach(lc, exprs)
		PyTuple_SET_ITEM(trees, foreach_current_index(lc),
						 planned_tree(lfirst(lc), how, outputs));
	return trees;
}

/* kwargs[key] = the trees of exprs, left out when there are none. */
static void
put_trees(PyObject *kwargs, const char *key, List *exprs, Describing *how, List *outputs)
{
	if (exprs != NIL)
		put_kwarg(kwargs, key, planned_trees(exprs, how, outputs));
}

/* The AggregateOrder keys of an aggregate's ORDER BY (SgAggregateOrder). */
static PyObject *
order_keys(List *keys, Describing *how)
{
	static PyObject *order_class = NULL;
	PyObject   *tuple = PyTuple_New(list_length(keys));
	ListCell   *lc;

	if (order_class == NULL)
		order_class = sgfdw_bridge_attr("AggregateOrder");
	SGFDW_CHECK(tuple, "describing an aggregate");
	foreach(lc, keys)
	{
		List	   *key = lfirst(lc);
		PyObject   *args = Py_BuildValue("(NOO)",
										 planned_tree(linitial(key), how, NIL),
										 intVal(lsecond(key)) ? Py_True : Py_False,
										 intVal(lthird(key)) ? Py_True : Py_False);

		PyTuple_SET_ITEM(tuple, foreach_current_index(lc),
						 sgfdw_call(order_class, args, NULL, "describing an aggregate"));
	}
	return tuple;
}

/* The keyword arguments of an Aggregate whose fields are those (a new dict). */
static PyObject *
aggregate_kwargs(List *fields, Describing *how)
{
	Expr	   *argument = list_nth(fields, SgAggregateArgument);
	Expr	   *filter = list_nth(fields, SgAggregateFilter);
	List	   *order = list_nth(fields, SgAggregateOrder);
	PyObject   *kwargs = PyDict_New();

	SGFDW_CHECK(kwargs, "describing an aggregate");
	/* Only an FDW that asked for expressions or ordered aggregates gets those. */
	if (argument != NULL)
		put_kwarg(kwargs, "argument", planned_tree(argument, how, NIL));
	if (filter != NULL)
		put_kwarg(kwargs, "filter", planned_tree(filter, how, NIL));
	put_trees(kwargs, "extra_arguments", list_nth(fields, SgAggregateExtraArguments), how,
			  NIL);
	if (order != NIL)
		put_kwarg(kwargs, "order_by", order_keys(order, how));
	return kwargs;
}

/*
 * The Python Aggregation a description stands for (sgfdw.aggregation); values: how its
 * trees' values are walked (NULL: as when planning, not kept).
 */
PyObject *
sgfdw_aggregation_from_nodes(SgTable *table, List *description, List *sort_nodes,
							 Node *limit, Node *offset, SgExpressionValues *values)
{
	SgExpressionValues planning = {NIL, NULL, 0};
	Describing	how = {description, table, values ? values : &planning};
	static PyObject *aggregation_class = NULL;
	static PyObject *aggregate_class = NULL;
	List	   *group_by = list_nth(description, SgAggregationGroupBy);
	List	   *aggregates = list_nth(description, SgAggregationAggregates);
	PyObject   *names = PyTuple_New(list_length(group_by));
	PyObject   *calls = PyTuple_New(list_length(aggregates));
	PyObject   *positional;
	PyObject   *kwargs = PyDict_New();
	PyObject   *aggregation;
	ListCell   *lc;

	if (aggregation_class == NULL)
	{
		aggregation_class = sgfdw_bridge_attr("Aggregation");
		aggregate_class = sgfdw_bridge_attr("Aggregate");
	}
	SGFDW_CHECK(names, "describing the aggregation");
	SGFDW_CHECK(calls, "describing the aggregation");
	SGFDW_CHECK(kwargs, "describing the aggregation");
	foreach(lc, group_by)
		PyTuple_SET_ITEM(names, foreach_current_index(lc),
						 sgfdw_str(get_attname(table->relid, lfirst_int(lc), false)));
	foreach(lc, aggregates)
	{
		List	   *fields = lfirst(lc);
		AttrNumber	attnum = intVal(list_nth(fields, SgAggregateAttnum));
		char	   *collation = strVal(list_nth(fields, SgAggregateCollation));
		PyObject   *args;
		PyObject   *kwargs;

		args = Py_BuildValue("(NNINO)", sgfdw_str(strVal(list_nth(fields, SgAggregateFunction))),
							 attnum > 0 ? sgfdw_str(get_attname(table->relid, attnum, false))
							 : Py_NewRef(Py_None),
							 (unsigned int) intVal(list_nth(fields, SgAggregateType)),
							 collation[0] ? sgfdw_str(collation) : Py_NewRef(Py_None),
							 intVal(list_nth(fields, SgAggregateDistinct)) ? Py_True : Py_False);
		SGFDW_CHECK(args, "describing an aggregate");
		kwargs = aggregate_kwargs(fields, &how);
		PyTuple_SET_ITEM(calls, foreach_current_index(lc),
						 sgfdw_call(aggregate_class, args, kwargs, "describing an aggregate"));
		Py_XDECREF(kwargs);
	}
	positional = Py_BuildValue("(NN)", names, calls);
	SGFDW_CHECK(positional, "describing the aggregation");
	/* Only an FDW that asked for expressions or HAVING gets those (sgfdw.aggregation). */
	put_trees(kwargs, "group_expressions", list_nth(description, SgAggregationGroupExprs),
			  &how, NIL);
	put_trees(kwargs, "having", list_nth(description, SgAggregationHaving), &how,
			  list_nth(description, SgAggregationOutputs));
	aggregation = sgfdw_call(aggregation_class, Py_NewRef(positional), kwargs,
							 "describing the aggregation");
	/* The sort keys name outputs: known once it is built. */
	if (sort_nodes != NIL || (limit && !((Const *) limit)->constisnull) ||
		(offset && !((Const *) offset)->constisnull))
	{
		PyObject   *order = Py_BuildValue("{sNsNsN}",
										  "sortkeys", output_sortkeys(aggregation, sort_nodes),
										  "limit", count_object(limit),
										  "offset", count_object(offset));

		SGFDW_CHECK(order, "describing the aggregation's order");
		if (PyDict_Update(kwargs, order) < 0)
			sgfdw_report_python_error(0, "describing the aggregation's order");
		Py_DECREF(order);
		Py_DECREF(aggregation);
		aggregation = sgfdw_call(aggregation_class, Py_NewRef(positional), kwargs,
								 "describing the aggregation");
	}
	Py_DECREF(kwargs);
	Py_DECREF(positional);
	return aggregation;
}

/*
 * The description of a planned aggregation whose trees' values are appended to *values
 * (the scan's fdw_exprs; each execution evaluates them: sgfdw_aggregation_first_value).
 */
List *
sgfdw_aggregation_plan_values(SgTable *table, List *description, List **values)
{
	SgExpressionValues collected = {*values, NULL, 0};
	int			first = list_length(*values);
	List	   *planned = list_copy(description);

	Py_DECREF(sgfdw_aggregation_from_nodes(table, description, NIL, NULL, NULL, &collected));
	if (list_length(collected.exprs) > first)
		lfirst(list_nth_cell(planned, SgAggregationFirstValue)) = makeInteger(first);
	*values = collected.exprs;
	return planned;
}

/* The index of the aggregation's first value in the scan's fdw_exprs, -1: it has none. */
int
sgfdw_aggregation_first_value(List *description)
{
	return intVal(list_nth(description, SgAggregationFirstValue));
}

/* The attnums an aggregation reads (ForeignScan.fdw_private[SgScanPrivateColumns]). */
List *
sgfdw_aggregation_columns(List *description)
{
	List	   *columns = list_copy(list_nth(description, SgAggregationGroupBy));
	List	   *expressions = list_copy(list_nth(description, SgAggregationGroupExprs));
	ListCell   *lc;
	ListCell   *key;

	foreach(lc, (List *) list_nth(description, SgAggregationAggregates))
	{
		int			attnum = intVal(list_nth(lfirst(lc), SgAggregateAttnum));

		if (attnum > 0)
			columns = list_append_unique_int(columns, attnum);
		expressions = lappend(expressions, list_nth(lfirst(lc), SgAggregateArgument));
		expressions = lappend(expressions, list_nth(lfirst(lc), SgAggregateFilter));
		expressions = list_concat(expressions, list_nth(lfirst(lc), SgAggregateExtraArguments));
		foreach(key, (List *) list_nth(lfirst(lc), SgAggregateOrder))
			expressions = lappend(expressions, linitial(lfirst(key)));
	}
	/* The trees read only the table's columns (expression.c describes no other Var). */
	foreach(lc, pull_var_clause((Node *) expressions, PVC_RECURSE_PLACEHOLDERS))
		columns = list_append_unique_int(columns, ((Var *) lfirst(lc))->varattno);
	return columns;
}

/*
 * The HAVING clauses that the FDW's optional can_filter_aggregation(aggregation, clause)
 * accepts for the aggregation of description, whose scan's targetlist is scan_tlist.
 */
static List *
accepted_having(PlannerInfo *root, SgTable *table, List *description, List *scan_tlist)
{
	PyObject   *method = sgfdw_optional_attr(table->instance, "can_filter_aggregation");
	PyObject   *aggregation;
	List	   *accepted = NIL;
	ListCell   *lc;

	if (method == NULL)
		return NIL;
	aggregation = sgfdw_aggregation_from_nodes(table, description, NIL, NULL, NULL, NULL);
	foreach(lc, (List *) root->parse->havingQual)
	{
		PyObject   *tree = expression_tree(lfirst(lc),
										   intVal(list_nth(description, SgAggregationVarno)),
										   table->relid, scan_tlist, NULL);

		if (tree != NULL &&
			sgfdw_accepts(Py_NewRef(method), Py_BuildValue("(ON)", aggregation, tree),
						  "can_filter_aggregation()"))
			accepted = lappend(accepted, copyObject(lfirst(lc)));
	}
	Py_DECREF(aggregation);
	Py_DECREF(method);
	return accepted;
}

/* The HAVING clauses PostgreSQL checks on the groups of the aggregation described. */
List *
sgfdw_aggregation_local_having(PlannerInfo *root, List *description)
{
	return list_difference((List *) root->parse->havingQual,
						   list_nth(description, SgAggregationHaving));
}

/* What computing baserel's groups costs the remote server, before they are transferred. */
static Cost
remote_grouping_cost(RelOptInfo *baserel, Cost startup_cost)
{
	return startup_cost + baserel->rows * cpu_operator_cost;
}

/*
 * Offers the FDW the grouping of baserel (whose restriction clauses it enforces) and,
 * if it accepts, adds the path of a scan yielding the groups.
 */
void
sgfdw_add_aggregate_path(PlannerInfo *root, RelOptInfo *baserel, RelOptInfo *grouped_rel,
						 GroupPathExtraData *extra, SgTable *table, Cost startup_cost,
						 Cost row_cost)
{
	Query	   *parse = root->parse;
	List	   *description;
	List	   *scan_tlist;
	PyObject   *method;
	List	   *group_exprs;
	List	   *having;
	double		groups;
	double		rows;
	SgOffer		offer = {sgfdw_optional_flag(table->instance, "aggregates_expressions"),
	sgfdw_optional_flag(table->instance, "aggregates_ordered")};

	if (extra->patype != PARTITIONWISE_AGGREGATE_NONE || parse->groupingSets != NIL)
		return;
	if (!describe_grouping(root, baserel, grouped_rel->reltarget, table->relid,
						   offer, &description, &scan_tlist))
		return;
	method = PyObject_GetAttrString(table->instance, "can_aggregate");
	if (method == NULL)
	{
		PyErr_Clear();
		return;
	}
	if (!sgfdw_accepts(method,
					   Py_BuildValue("(N)", sgfdw_aggregation_from_nodes(table, description,
																		  NIL, NULL, NULL,
																		  NULL)),
					   "can_aggregate()"))
		return;
	having = accepted_having(root, table, description, scan_tlist);
	if (having != NIL)
	{
		lfirst(list_nth_cell(description, SgAggregationHaving)) = having;
		lfirst(list_nth_cell(description, SgAggregationOutputs)) = copyObject(scan_tlist);
	}

	group_exprs = get_sortgrouplist_exprs(parse->groupClause, parse->targetList);
	groups = group_exprs == NIL ? 1 :
		estimate_num_groups(root, group_exprs, baserel->rows, NULL, NULL);
	/* HAVING filters the groups after they were transferred. */
	rows = clamp_row_est(groups * clauselist_selectivity(root, (List *) parse->havingQual, 0,
														 JOIN_INNER, NULL));
	/*
	 * The rows are read remotely, not transferred: only the groups cost what a scan's
	 * rows do, and less (fewer columns, nothing aggregated locally), so that this path
	 * wins over sorting or hashing the scanned rows even when there are few rows.
	 */
	add_path(grouped_rel, (Path *)
			 make_upper_path(root, grouped_rel, grouped_rel->reltarget, rows, startup_cost,
							 remote_grouping_cost(baserel, startup_cost) +
							 groups * row_cost * 0.5, NIL,
							 sgfdw_path_private(NIL, NULL, NULL, description, scan_tlist)));
}

/* The path of rel computing an aggregation in the FDW (ordered or not), NULL: none. */
ForeignPath *
sgfdw_aggregation_path(RelOptInfo *rel)
{
	ListCell   *lc;

	if (rel->reloptkind != RELOPT_UPPER_REL)
		return NULL;
	foreach(lc, rel->pathlist)
	{
		ForeignPath *path = lfirst(lc);

		if (IsA(path, ForeignPath) &&
			list_length(path->fdw_private) == SgPathPrivateCount &&
			list_nth(path->fdw_private, SgPathPrivateAggregation) != NIL)
			return path;
	}
	return NULL;
}

/* The position of what pathkey sorts by in the scan's targetlist, 0: none of it. */
static int
sorted_output(PathKey *pathkey, List *scan_tlist)
{
	ListCell   *lc;

	foreach(lc, pathkey->pk_eclass->ec_members)
	{
		EquivalenceMember *member = lfirst(lc);
		Expr	   *expr = member->em_expr;
		TargetEntry *entry;

		if (member->em_is_const || member->em_is_child)
			continue;
		while (IsA(expr, RelabelType))
			expr = ((RelabelType *) expr)->arg;
		entry = tlist_member(expr, scan_tlist);
		if (entry != NULL)
			return entry->resno;
	}
	return 0;
}

/* The one foreign table a query's aggregation reads. */
static SgTable *
aggregated_table(PlannerInfo *root)
{
	return sgfdw_get_table(planner_rt_fetch(bms_singleton_member(root->all_baserels),
											root)->relid);
}

/* The FDW's optional method name, NULL when it has none. */
static PyObject *
optional_method(PlannerInfo *root, const char *name)
{
	return sgfdw_optional_attr(aggregated_table(root)->instance, name);
}

/* The Aggregation that path computes, ordered by sort_nodes. */
static PyObject *
aggregation_of(PlannerInfo *root, ForeignPath *path, List *sort_nodes)
{
	return sgfdw_aggregation_from_nodes(aggregated_table(root),
										list_nth(path->fdw_private, SgPathPrivateAggregation),
										sort_nodes, NULL, NULL, NULL);
}

/*
 * ORDER BY above an aggregation the FDW computes: offered to its optional
 * can_sort_aggregation(aggregation, sortkeys) when every sort key is one of the
 * aggregation's outputs.
 */
void
sgfdw_add_ordered_aggregation_path(PlannerInfo *root, ForeignPath *aggregated,
								   RelOptInfo *ordered_rel)
{
	List	   *pushed = aggregated->fdw_private;
	List	   *scan_tlist = list_nth(pushed, SgPathPrivateScanTlist);
	List	   *nodes = NIL;
	PyObject   *method;
	PyObject   *aggregation;
	Cost		surcharge;
	ListCell   *lc;

	if (root->sort_pathkeys == NIL)
		return;
	foreach(lc, root->sort_pathkeys)
	{
		int			position = sorted_output(lfirst(lc), scan_tlist);

		if (position == 0)
			return;
		nodes = lappend(nodes, sgfdw_sortkey_node(lfirst(lc), position));
	}
	method = optional_method(root, "can_sort_aggregation");
	if (method == NULL)
		return;
	aggregation = aggregation_of(root, aggregated, NIL);
	if (!sgfdw_accepts(method, Py_BuildValue("(NN)", aggregation,
									   output_sortkeys(aggregation, nodes)),
				 "can_sort_aggregation()"))
		return;
	/*
	 * The remote work costs more sorted, as postgres_fdw's DEFAULT_FDW_SORT_MULTIPLIER
	 * says (the remote server may sort every row to group them instead of hashing):
	 * a few groups are then sorted here, many remotely. Not so above a LIMIT, whose
	 * pushdown needs the remote order and spares transferring the other groups.
	 */
	surcharge = root->parse->limitCount != NULL ? 0 :
		remote_grouping_cost(find_base_rel(root, bms_singleton_member(root->all_baserels)),
							 aggregated->path.startup_cost) * (REMOTE_SORT_MULTIPLIER - 1);
	add_path(ordered_rel, (Path *)
			 make_upper_path(root, ordered_rel, root->upper_targets[UPPERREL_ORDERED],
							 aggregated->path.rows,
							 aggregated->path.startup_cost + surcharge,
							 aggregated->path.total_cost + surcharge,
							 root->sort_pathkeys,
							 sgfdw_path_private(nodes, NULL, NULL,
												list_nth(pushed, SgPathPrivateAggregation),
												scan_tlist)));
}

/*
 * LIMIT/OFFSET above an aggregation the FDW computes (ordered, if the query orders):
 * offered to its optional can_limit_aggregation(aggregation, limit, offset) when no
 * group can be filtered out after it was counted (no HAVING left to PostgreSQL).
 */
void
sgfdw_add_limited_aggregation_path(PlannerInfo *root, ForeignPath *aggregated,
								   RelOptInfo *final_rel, FinalPathExtraData *extra)
{
	List	   *pushed = aggregated->fdw_private;
	List	   *sort_nodes = list_nth(pushed, SgPathPrivateSortKeys);
	Const	   *limit;
	Const	   *offset;
	PyObject   *method;
	double		rows;
	double		fraction;

	if (sgfdw_aggregation_local_having(root, list_nth(pushed, SgPathPrivateAggregation)) != NIL ||
		!sgfdw_limit_to_push(root, extra, &limit, &offset))
		return;
	if (root->sort_pathkeys != NIL &&
		!pathkeys_contained_in(root->sort_pathkeys, aggregated->path.pathkeys))
		return;
	method = optional_method(root, "can_limit_aggregation");
	if (method == NULL)
		return;
	if (!sgfdw_accepts(method, Py_BuildValue("(NNN)", aggregation_of(root, aggregated, sort_nodes),
									   count_object((Node *) limit),
									   count_object((Node *) offset)),
				 "can_limit_aggregation()"))
		return;
	rows = sgfdw_limited_rows(aggregated->path.rows, limit, offset);
	fraction = aggregated->path.rows > 0 ? rows / aggregated->path.rows : 1;
	/* Cheaper than Limit over the groups' scan: fewer groups are transferred. */
	add_path(final_rel, (Path *)
			 make_upper_path(root, final_rel, root->upper_targets[UPPERREL_FINAL],
							 clamp_row_est(rows), aggregated->path.startup_cost,
							 aggregated->path.startup_cost +
							 (aggregated->path.total_cost - aggregated->path.startup_cost) *
							 fraction * 0.5,
							 aggregated->path.pathkeys,
							 sgfdw_path_private(sort_nodes, limit, offset,
												list_nth(pushed, SgPathPrivateAggregation),
												list_nth(pushed, SgPathPrivateScanTlist))));
}

/*
 * Reads the rows of an aggregation's scan: by position the values of output_names (a
 * mapping by those names), converted to the types of the scan's targetlist.
 */
void
sgfdw_aggregation_reader(PyObject *aggregation, TupleDesc desc, const char *relname,
						 SgRowReader *rows)
{
	PyObject   *names = PyObject_GetAttrString(aggregation, "output_names");

	SGFDW_CHECK(names, "the aggregation's output_names");
	if (!PyTuple_Check(names) || PyTuple_GET_SIZE(names) != desc->natts)
		elog(ERROR, "the aggregation has %d values, its scan %d",
			 PyTuple_Check(names) ? (int) PyTuple_GET_SIZE(names) : -1, desc->natts);
	/* Borrowed by the reader: the aggregation object holds the tuple. */
	sgrow_init_outputs(rows, names, desc,
					   psprintf("the aggregation of foreign table \"%s\"", relname));
	Py_DECREF(names);
}
