/*
 * quals.c
 *		Restriction clauses -> qual descriptions (planner) -> multicorn.Qual objects.
 *
 * A clause is described as (column, operator, how) plus the expression of its value.
 * Values are kept as expressions and evaluated when the scan starts, so parameters and
 * outer-row values of a nested loop reach Python with their current values; constants
 * are also usable at plan time.
 */
#include "sgfdw.h"

#include "access/sysattr.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "utils/lsyscache.h"

static Var *
column_of(Node *node, Index relid)
{
	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node && IsA(node, Var))
	{
		Var		   *var = (Var *) node;

		/* ctid too: planner.c has refused it unless the FDW provides it (ctid.c). */
		if (var->varno == relid && var->varlevelsup == 0 &&
			(var->varattno > 0 || var->varattno == SelfItemPointerAttributeNumber))
			return var;
	}
	return NULL;
}

/* A value is anything evaluable without this relation's row and without side effects. */
static bool
is_value(PlannerInfo *root, Node *node, Index relid)
{
	return !bms_is_member(relid, pull_varnos(root, node)) &&
		!contain_volatile_functions(node) &&
		!contain_subplans(node);
}

static SgQualDesc *
new_qual(Var *var, const char *opname, int kind, Node *value, List **values)
{
	SgQualDesc *qual = palloc0(sizeof(SgQualDesc));

	qual->attnum = var->varattno;
	qual->opname = pstrdup(opname);
	qual->kind = kind;
	qual->value_index = -1;
	if (value)
	{
		*values = lappend(*values, value);
		qual->value_index = list_length(*values) - 1;
	}
	return qual;
}

/*
 * A qual carries no collation: the FDW can only compare as the column does. An
 * operator applied under another collation (an explicit COLLATE) is left to PostgreSQL,
 * else a remote filter could drop rows the query wants.
 */
static bool
column_collation(Var *var, Oid inputcollid)
{
	return !OidIsValid(inputcollid) || inputcollid == var->varcollid;
}

static SgQualDesc *
describe_clause(PlannerInfo *root, Expr *clause, Index relid, List **values)
{
	Var		   *var;

	if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2)
	{
		OpExpr	   *op = (OpExpr *) clause;
		Node	   *left = linitial(op->args);
		Node	   *right = lsecond(op->args);

		if ((var = column_of(left, relid)) && is_value(root, right, relid) &&
			column_collation(var, op->inputcollid))
			return new_qual(var, get_opname(op->opno), SG_QUAL_SCALAR, right, values);
		if ((var = column_of(right, relid)) && is_value(root, left, relid) &&
			column_collation(var, op->inputcollid))
		{
			Oid			commutator = get_commutator(op->opno);

			if (OidIsValid(commutator))
				return new_qual(var, get_opname(commutator), SG_QUAL_SCALAR, left, values);
		}
	}
	else if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *op = (ScalarArrayOpExpr *) clause;
		Node	   *right = lsecond(op->args);

		if ((var = column_of(linitial(op->args), relid)) && is_value(root, right, relid) &&
			column_collation(var, op->inputcollid))
			return new_qual(var, get_opname(op->opno),
							op->useOr ? SG_QUAL_ANY : SG_QUAL_ALL, right, values);
	}
	else if (IsA(clause, NullTest))
	{
		NullTest   *test = (NullTest *) clause;

		if (!test->argisrow && (var = column_of((Node *) test->arg, relid)))
			return new_qual(var, test->nulltesttype == IS_NULL ? "=" : "<>",
							test->nulltesttype == IS_NULL ? SG_QUAL_NULL : SG_QUAL_NOTNULL,
							NULL, values);
	}
	else if (IsA(clause, BooleanTest))
	{
		/* As Multicorn: IS [NOT] TRUE/FALSE/UNKNOWN -> 'IS' / 'IS NOT' True/False/None. */
		BooleanTest *test = (BooleanTest *) clause;
		BoolTestType type = test->booltesttype;
		bool		negated = type == IS_NOT_TRUE || type == IS_NOT_FALSE ||
			type == IS_NOT_UNKNOWN;
		Node	   *value = NULL;

		if (type == IS_TRUE || type == IS_NOT_TRUE)
			value = (Node *) makeBoolConst(true, false);
		else if (type == IS_FALSE || type == IS_NOT_FALSE)
			value = (Node *) makeBoolConst(false, false);
		if ((var = column_of((Node *) test->arg, relid)))
			return new_qual(var, negated ? "IS NOT" : "IS", SG_QUAL_SCALAR, value, values);
	}
	else if ((var = column_of((Node *) clause, relid)) && var->vartype == BOOLOID)
		return new_qual(var, "=", SG_QUAL_SCALAR,
						(Node *) makeBoolConst(true, false), values);
	else if (is_notclause(clause) &&
			 (var = column_of((Node *) get_notclausearg(clause), relid)) &&
			 var->vartype == BOOLOID)
		return new_qual(var, "=", SG_QUAL_SCALAR,
						(Node *) makeBoolConst(false, false), values);
	return NULL;
}

/*
 * Describes the clauses (RestrictInfos) that name one column of baserel. Their value
 * expressions are appended to *values. *all_extracted tells whether every clause that
 * PostgreSQL will check was understood, which LIMIT pushdown needs.
 */
List *
sgfdw_extract_quals(PlannerInfo *root, RelOptInfo *baserel, List *clauses, List **values,
					bool *all_extracted)
{
	List	   *quals = NIL;
	ListCell   *lc;

	*all_extracted = true;
	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		SgQualDesc *qual;

		if (rinfo->pseudoconstant)
			continue;			/* checked once by a gating Result node */
		qual = describe_clause(root, rinfo->clause, baserel->relid, values);
		if (qual)
			quals = lappend(quals, qual);
		else
			*all_extracted = false;
	}
	return quals;
}

/* fdw_private must hold copyable nodes: each qual becomes a small list of these. */
enum SgQualField
{
	SgQualAttnum,				/* Integer */
	SgQualOperator,				/* String */
	SgQualKind,					/* Integer: SG_QUAL_* */
	SgQualValueIndex,			/* Integer */
	SgQualFieldCount
};

List *
sgfdw_quals_to_nodes(List *quals)
{
	List	   *nodes = NIL;
	ListCell   *lc;

	foreach(lc, quals)
	{
		SgQualDesc *qual = lfirst(lc);
		Node	   *fields[SgQualFieldCount];

		fields[SgQualAttnum] = (Node *) makeInteger(qual->attnum);
		fields[SgQualOperator] = (Node *) makeString(qual->opname);
		fields[SgQualKind] = (Node *) makeInteger(qual->kind);
		fields[SgQualValueIndex] = (Node *) makeInteger(qual->value_index);
		nodes = lappend(nodes, sgfdw_list_of(fields, SgQualFieldCount));
	}
	return nodes;
}

List *
sgfdw_quals_from_nodes(List *nodes)
{
	List	   *quals = NIL;
	ListCell   *lc;

	foreach(lc, nodes)
	{
		List	   *node = lfirst(lc);
		SgQualDesc *qual = palloc(sizeof(SgQualDesc));

		qual->attnum = intVal(list_nth(node, SgQualAttnum));
		qual->opname = strVal(list_nth(node, SgQualOperator));
		qual->kind = intVal(list_nth(node, SgQualKind));
		qual->value_index = intVal(list_nth(node, SgQualValueIndex));
		quals = lappend(quals, qual);
	}
	return quals;
}

PyObject *
sgfdw_make_qual(const char *colname, SgQualDesc *qual, PyObject *value)
{
	static PyObject *qual_class = NULL;
	PyObject   *operator;
	PyObject   *args;
	PyObject   *result;

	if (qual_class == NULL)
		qual_class = sgfdw_bridge_attr("Qual");
	if (qual->kind == SG_QUAL_ANY || qual->kind == SG_QUAL_ALL)
		operator = Py_BuildValue("(sO)", qual->opname,
								 qual->kind == SG_QUAL_ANY ? Py_True : Py_False);
	else
		operator = sgfdw_str(qual->opname);
	SGFDW_CHECK(operator, "building a qual");
	args = Py_BuildValue("(sNO)", colname, operator, value ? value : Py_None);
	SGFDW_CHECK(args, "building a qual");
	result = sgfdw_call(qual_class, args, NULL, "building a qual");
	return result;
}

/*
 * A comparison whose value is SQL NULL in this execution holds for no row, but a Qual of
 * value None means IS NULL (Multicorn's API), and nothing rechecks the rows of a pushed
 * join or a direct modification: quals[index] becomes `col IS NULL`, and `col IS NOT
 * NULL` is appended. (SQL NULL only: a jsonb 'null' is None in Python too.)
 */
void
sgfdw_contradict_qual(PyObject *quals, int index, const char *colname, AttrNumber attnum)
{
	SgQualDesc	is_null = {attnum, "=", SG_QUAL_NULL, -1};
	SgQualDesc	not_null = {attnum, "<>", SG_QUAL_NOTNULL, -1};
	PyObject   *added;

	PyList_SetItem(quals, index, sgfdw_make_qual(colname, &is_null, NULL));
	added = sgfdw_make_qual(colname, &not_null, NULL);
	if (PyList_Append(quals, added) < 0)
		sgfdw_report_python_error(0, "building quals");
	Py_DECREF(added);
}

/*
 * The quals whose value is known while planning: constants, and the null tests.
 * Returns NULL-free list; sets nothing for quals with a runtime value.
 */
PyObject *
sgfdw_plan_time_quals(SgTable *table, List *quals, List *values)
{
	PyObject   *result = PyList_New(0);
	ListCell   *lc;

	SGFDW_CHECK(result, "building quals");
	foreach(lc, quals)
	{
		SgQualDesc *qual = lfirst(lc);
		PyObject   *value = NULL;
		PyObject   *pyqual;

		if (qual->value_index >= 0)
		{
			Node	   *expr = list_nth(values, qual->value_index);
			Const	   *constant;

			if (!IsA(expr, Const))
				continue;
			constant = (Const *) expr;
			value = sgconv_datum_to_python(constant->consttype, constant->consttypmod,
										   constant->constvalue, constant->constisnull);
		}
		pyqual = sgfdw_make_qual(get_attname(table->relid, qual->attnum, false), qual, value);
		Py_XDECREF(value);
		if (PyList_Append(result, pyqual) < 0)
			sgfdw_report_python_error(0, "building quals");
		Py_DECREF(pyqual);
	}
	return result;
}
