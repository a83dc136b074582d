/*
 * expression.c
 *		Planner expressions -> the trees of sgfdw.expression, which the FDW evaluates.
 *
 * A subtree that reads none of the described relations, calls nothing volatile and
 * holds no subplan is a value: PostgreSQL computes it and the FDW sees a Constant. While
 * planning only a Const has a value (any other value is a Parameter). The walk meets the
 * value subtrees in a fixed order and lists them, so that the plan can carry them
 * (fdw_exprs); the executor evaluates them and walks the same tree again with their
 * values. A node the walk does not know makes the whole tree not describable (NULL):
 * its clause simply stays with PostgreSQL. In a HAVING clause the aggregation's outputs
 * (grouping keys, aggregates) are Output nodes: the FDW computed them.
 */
#include "sgfdw.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/dependency.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/tlist.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#define CONTEXT "describing an expression"

typedef struct Walk
{
	const SgExpressionScope *scope;
	SgExpressionValues *values;
} Walk;

static PyObject *describe(Walk *walk, Node *node);

/* A class of sgfdw.expression. */
static PyObject *
node_class(const char *name)
{
	static PyObject *module = NULL;
	PyObject   *cls;

	if (module == NULL)
	{
		sgfdw_ensure_python();
		module = PyImport_ImportModule("sgfdw.expression");
		SGFDW_CHECK(module, "importing sgfdw.expression");
	}
	cls = PyObject_GetAttrString(module, name);
	SGFDW_CHECK(cls, CONTEXT);
	return cls;
}

/* kwargs[key] = value, the reference to value taken over. */
static void
put(PyObject *kwargs, const char *key, PyObject *value)
{
	SGFDW_CHECK(value, CONTEXT);
	if (PyDict_SetItemString(kwargs, key, value) < 0)
		sgfdw_report_python_error(0, CONTEXT);
	Py_DECREF(value);
}

static PyObject *
new_kwargs(void)
{
	PyObject   *kwargs = PyDict_New();

	SGFDW_CHECK(kwargs, CONTEXT);
	return kwargs;
}

/* The SQL spelling of a type, schema-qualified when it is not built in. */
static PyObject *
type_name(Oid type, int32 typmod)
{
	bits16		flags = FORMAT_TYPE_TYPEMOD_GIVEN;

	if (type >= FirstNormalObjectId)
		flags |= FORMAT_TYPE_FORCE_QUALIFY;
	return sgfdw_str(format_type_extended(type, typmod, flags));
}

/*
 * NULL for no collation or the database default (as SortKey.collate); one created in
 * the database is schema-qualified, so that a "C" of one's own is not the built-in C.
 */
char *
sgfdw_collation_sql_name(Oid collation)
{
	HeapTuple	tuple;
	Form_pg_collation form;
	char	   *name;

	if (!OidIsValid(collation) || collation == DEFAULT_COLLATION_OID)
		return NULL;
	if (collation < FirstNormalObjectId)
		return get_collation_name(collation);
	tuple = SearchSysCache1(COLLOID, ObjectIdGetDatum(collation));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for collation %u", collation);
	form = (Form_pg_collation) GETSTRUCT(tuple);
	name = quote_qualified_identifier(get_namespace_name(form->collnamespace),
									  NameStr(form->collname));
	ReleaseSysCache(tuple);
	return name;
}

/* sgfdw_collation_sql_name as Python: a str or None (a new reference). */
PyObject *
sgfdw_collation_name(Oid collation)
{
	char	   *name = sgfdw_collation_sql_name(collation);

	return name ? sgfdw_str(name) : Py_NewRef(Py_None);
}

static void
put_type(PyObject *kwargs, Oid type, int32 typmod, Oid collation)
{
	put(kwargs, "type_oid", PyLong_FromUnsignedLong(type));
	put(kwargs, "type_name", type_name(type, typmod));
	put(kwargs, "collation", sgfdw_collation_name(collation));
}

/* An instance of sgfdw.expression's class `name`, its type fields those of expr. */
static PyObject *
make_node(const char *name, Node *expr, PyObject *kwargs)
{
	PyObject   *cls = node_class(name);
	PyObject   *args = PyTuple_New(0);
	PyObject   *result;

	SGFDW_CHECK(args, CONTEXT);
	if (expr != NULL)
		put_type(kwargs, exprType(expr), exprTypmod(expr), exprCollation(expr));
	result = sgfdw_call(cls, args, kwargs, CONTEXT);
	Py_DECREF(kwargs);
	Py_DECREF(cls);
	return result;
}

static PyObject *
volatility(char provolatile)
{
	char		text[2] = {provolatile, '\0'};

	return sgfdw_str(text);
}

/* The extension owning a catalog object, None if it belongs to none. */
static PyObject *
extension_of(Oid classid, Oid objid)
{
	Oid			extension = getExtensionOfObject(classid, objid);

	if (!OidIsValid(extension))
		Py_RETURN_NONE;
	return sgfdw_str(get_extension_name(extension));
}

/* The fields of Call (and Cast) that tell what function runs. */
static void
put_function(PyObject *kwargs, Oid funcid, bool named)
{
	bool		builtin = funcid < FirstNormalObjectId;

	if (named)
	{
		put(kwargs, "schema", sgfdw_str(get_namespace_name(get_func_namespace(funcid))));
		put(kwargs, "name", sgfdw_str(get_func_name(funcid)));
	}
	put(kwargs, "volatility", volatility(func_volatile(funcid)));
	put(kwargs, "builtin", PyBool_FromLong(builtin));
	put(kwargs, "extension", builtin ? Py_NewRef(Py_None)
		: extension_of(ProcedureRelationId, funcid));
}

/* The fields of a Call that is an operator, comparing under inputcollid. */
static void
put_operator(PyObject *kwargs, Oid opno, Oid inputcollid)
{
	HeapTuple	tuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno));
	Form_pg_operator form;
	bool		builtin;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for operator %u", opno);
	form = (Form_pg_operator) GETSTRUCT(tuple);
	builtin = opno < FirstNormalObjectId && form->oprcode < FirstNormalObjectId;
	put(kwargs, "schema", sgfdw_str(get_namespace_name(form->oprnamespace)));
	put(kwargs, "name", sgfdw_str(NameStr(form->oprname)));
	put(kwargs, "operator", Py_NewRef(Py_True));
	put(kwargs, "input_collation", sgfdw_collation_name(inputcollid));
	put(kwargs, "volatility", volatility(func_volatile(form->oprcode)));
	put(kwargs, "builtin", PyBool_FromLong(builtin));
	if (builtin)
		put(kwargs, "extension", Py_NewRef(Py_None));
	else
	{
		PyObject   *extension = extension_of(OperatorRelationId, opno);

		if (extension == Py_None)
		{
			Py_DECREF(extension);
			extension = extension_of(ProcedureRelationId, form->oprcode);
		}
		put(kwargs, "extension", extension);
	}
	ReleaseSysCache(tuple);
}

/* The operator of ANY/ALL, IS DISTINCT FROM, NULLIF: a Call without arguments. */
static PyObject *
operator_call(Oid opno, Oid inputcollid)
{
	PyObject   *kwargs = new_kwargs();

	put_operator(kwargs, opno, inputcollid);
	put(kwargs, "args", PyTuple_New(0));
	put_type(kwargs, get_op_rettype(opno), -1, InvalidOid);
	return make_node("Call", NULL, kwargs);
}

/* Does the subtree read the described relations (or anything only a row has)? */
static bool
reads_row(Node *node, void *context)
{
	const SgExpressionScope *scope = context;

	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varlevelsup == 0 &&
			list_member_int(scope->varnos, ((Var *) node)->varno);
	if (IsA(node, PlaceHolderVar) || IsA(node, Aggref) || IsA(node, WindowFunc) ||
		IsA(node, GroupingFunc) || IsA(node, CaseTestExpr) || IsA(node, SubLink))
		return true;
	return expression_tree_walker(node, reads_row, context);
}

static bool
is_value(Walk *walk, Node *node)
{
	return !reads_row(node, (void *) walk->scope) && !contain_volatile_functions(node) &&
		!contain_subplans(node);
}

/* A value: a Constant, or while planning a Parameter unless it is a Const. */
static PyObject *
value_node(Walk *walk, Node *node)
{
	SgExpressionValues *values = walk->values;
	PyObject   *kwargs = new_kwargs();
	PyObject   *value;

	values->exprs = lappend(values->exprs, node);
	if (values->evaluated != NULL)
	{
		value = PySequence_GetItem(values->evaluated, values->next++);
		SGFDW_CHECK(value, CONTEXT);
	}
	else if (IsA(node, Const))
	{
		Const	   *constant = (Const *) node;

		value = sgconv_datum_to_python(constant->consttype, constant->consttypmod,
									   constant->constvalue, constant->constisnull);
	}
	else
		return make_node("Parameter", node, kwargs);
	put(kwargs, "value", value);
	return make_node("Constant", node, kwargs);
}

/* An output of the aggregation whose scan targetlist holds entry. */
static PyObject *
output_node(Node *node, TargetEntry *entry)
{
	PyObject   *kwargs = new_kwargs();

	put(kwargs, "position", PyLong_FromLong(entry->resno));
	return make_node("Output", node, kwargs);
}

static PyObject *
column_node(Walk *walk, Var *var)
{
	int			relation = 0;
	ListCell   *lc;

	if (var->varlevelsup != 0 || var->varattno <= 0)
		return NULL;			/* a whole row or a system column */
	foreach(lc, walk->scope->varnos)
	{
		if (lfirst_int(lc) == var->varno)
		{
			PyObject   *kwargs = new_kwargs();
			Oid			relid = list_nth_oid(walk->scope->relids, relation);

			put(kwargs, "name", sgfdw_str(get_attname(relid, var->varattno, false)));
			put(kwargs, "relation", PyLong_FromLong(relation));
			return make_node("Column", (Node *) var, kwargs);
		}
		relation++;
	}
	return NULL;
}

/* The described nodes as a tuple, NULL if one is not describable. */
static PyObject *
describe_list(Walk *walk, List *nodes)
{
	PyObject   *tuple = PyTuple_New(list_length(nodes));
	ListCell   *lc;

	SGFDW_CHECK(tuple, CONTEXT);
	foreach(lc, nodes)
	{
		PyObject   *item = describe(walk, lfirst(lc));

		if (item == NULL)
		{
			Py_DECREF(tuple);
			return NULL;
		}
		PyTuple_SET_ITEM(tuple, foreach_current_index(lc), item);
	}
	return tuple;
}

/* kwargs[key] = the description of node; false if it is not describable. */
static bool
put_described(Walk *walk, PyObject *kwargs, const char *key, Node *node)
{
	PyObject   *described = node == NULL ? Py_NewRef(Py_None) : describe(walk, node);

	if (described == NULL)
		return false;
	put(kwargs, key, described);
	return true;
}

static bool
put_described_list(Walk *walk, PyObject *kwargs, const char *key, List *nodes)
{
	PyObject   *described = describe_list(walk, nodes);

	if (described == NULL)
		return false;
	put(kwargs, key, described);
	return true;
}

/* Builds the node, or releases kwargs if a part was not describable. */
static PyObject *
finish(const char *name, Node *expr, PyObject *kwargs, bool describable)
{
	if (!describable)
	{
		Py_DECREF(kwargs);
		return NULL;
	}
	return make_node(name, expr, kwargs);
}

static PyObject *
describe_operator(Walk *walk, OpExpr *op)
{
	PyObject   *kwargs = new_kwargs();

	put_operator(kwargs, op->opno, op->inputcollid);
	return finish("Call", (Node *) op, kwargs,
				  put_described_list(walk, kwargs, "args", op->args));
}

/* IS DISTINCT FROM and NULLIF: two operands compared by an operator. */
static PyObject *
describe_comparison(Walk *walk, const char *name, OpExpr *op)
{
	PyObject   *kwargs = new_kwargs();

	put(kwargs, "operator", operator_call(op->opno, op->inputcollid));
	return finish(name, (Node *) op, kwargs,
				  list_length(op->args) == 2 &&
				  put_described(walk, kwargs, "left", linitial(op->args)) &&
				  put_described(walk, kwargs, "right", lsecond(op->args)));
}

static PyObject *
describe_cast(Walk *walk, Node *cast, Node *arg, bool implicit, Oid funcid)
{
	PyObject   *kwargs = new_kwargs();

	put(kwargs, "implicit", PyBool_FromLong(implicit));
	if (OidIsValid(funcid))
		put_function(kwargs, funcid, false);
	return finish("Cast", cast, kwargs, put_described(walk, kwargs, "arg", arg));
}

static PyObject *
describe_function(Walk *walk, FuncExpr *func)
{
	PyObject   *kwargs;

	if (func->funcformat == COERCE_EXPLICIT_CAST || func->funcformat == COERCE_IMPLICIT_CAST)
		/* Further arguments are the target's typmod and explicitness: in its type_name. */
		return describe_cast(walk, (Node *) func, linitial(func->args),
							 func->funcformat == COERCE_IMPLICIT_CAST, func->funcid);
	kwargs = new_kwargs();
	put_function(kwargs, func->funcid, true);
	put(kwargs, "input_collation", sgfdw_collation_name(func->inputcollid));
	put(kwargs, "variadic", PyBool_FromLong(func->funcvariadic));
	return finish("Call", (Node *) func, kwargs,
				  put_described_list(walk, kwargs, "args", func->args));
}

/* An I/O conversion runs the source type's output and the target type's input. */
static PyObject *
describe_io_cast(Walk *walk, CoerceViaIO *cast)
{
	Oid			output;
	Oid			input;
	Oid			ioparam;
	bool		varlena;
	char		out_volatility;
	char		in_volatility;
	bool		builtin;
	PyObject   *kwargs = new_kwargs();

	getTypeOutputInfo(exprType((Node *) cast->arg), &output, &varlena);
	getTypeInputInfo(cast->resulttype, &input, &ioparam);
	out_volatility = func_volatile(output);
	in_volatility = func_volatile(input);
	builtin = output < FirstNormalObjectId && input < FirstNormalObjectId;
	put(kwargs, "implicit", PyBool_FromLong(cast->coerceformat != COERCE_EXPLICIT_CAST));
	/* 'i' < 's' < 'v': the less stable of the two */
	put(kwargs, "volatility", volatility(Max(out_volatility, in_volatility)));
	put(kwargs, "builtin", PyBool_FromLong(builtin));
	put(kwargs, "extension", builtin ? Py_NewRef(Py_None)
		: extension_of(ProcedureRelationId, output < FirstNormalObjectId ? input : output));
	return finish("Cast", (Node *) cast, kwargs,
				  put_described(walk, kwargs, "arg", (Node *) cast->arg));
}

/* An array cast element by element: described when each element's is a plain one. */
static PyObject *
describe_array_cast(Walk *walk, ArrayCoerceExpr *cast)
{
	Node	   *element = (Node *) cast->elemexpr;
	bool		implicit = cast->coerceformat != COERCE_EXPLICIT_CAST;
	Oid			funcid = InvalidOid;

	if (IsA(element, FuncExpr) && list_length(((FuncExpr *) element)->args) >= 1 &&
		IsA(linitial(((FuncExpr *) element)->args), CaseTestExpr))
		funcid = ((FuncExpr *) element)->funcid;
	else if (IsA(element, RelabelType) && IsA(((RelabelType *) element)->arg, CaseTestExpr))
		funcid = InvalidOid;
	else if (!IsA(element, CaseTestExpr))
		return NULL;
	return describe_cast(walk, (Node *) cast, (Node *) cast->arg, implicit, funcid);
}

static PyObject *
describe_any_all(Walk *walk, ScalarArrayOpExpr *op)
{
	PyObject   *kwargs = new_kwargs();

	put(kwargs, "operator", operator_call(op->opno, op->inputcollid));
	put(kwargs, "all", PyBool_FromLong(!op->useOr));
	return finish("AnyAll", (Node *) op, kwargs,
				  put_described(walk, kwargs, "left", linitial(op->args)) &&
				  put_described(walk, kwargs, "right", lsecond(op->args)));
}

static PyObject *
describe_bool(Walk *walk, BoolExpr *expr)
{
	PyObject   *kwargs = new_kwargs();
	const char *op = expr->boolop == AND_EXPR ? "and" : expr->boolop == OR_EXPR ? "or" : "not";

	put(kwargs, "op", sgfdw_str(op));
	return finish("BoolOp", (Node *) expr, kwargs,
				  put_described_list(walk, kwargs, "args", expr->args));
}

static PyObject *
describe_null_test(Walk *walk, NullTest *test)
{
	PyObject   *kwargs = new_kwargs();

	put(kwargs, "negated", PyBool_FromLong(test->nulltesttype == IS_NOT_NULL));
	return finish("NullTest", (Node *) test, kwargs,
				  put_described(walk, kwargs, "arg", (Node *) test->arg));
}

static PyObject *
describe_boolean_test(Walk *walk, BooleanTest *test)
{
	static const char *const sql[] = {
		[IS_TRUE] = "IS TRUE", [IS_NOT_TRUE] = "IS NOT TRUE",
		[IS_FALSE] = "IS FALSE", [IS_NOT_FALSE] = "IS NOT FALSE",
		[IS_UNKNOWN] = "IS UNKNOWN", [IS_NOT_UNKNOWN] = "IS NOT UNKNOWN"};
	PyObject   *kwargs = new_kwargs();

	put(kwargs, "test", sgfdw_str(sql[test->booltesttype]));
	return finish("BooleanTest", (Node *) test, kwargs,
				  put_described(walk, kwargs, "arg", (Node *) test->arg));
}

/* With an argument each WHEN is "CaseTestExpr = value": its value is described. */
static Node *
case_when_value(CaseExpr *expr, CaseWhen *when)
{
	Node	   *left;

	if (expr->arg == NULL)
		return (Node *) when->expr;
	if (!IsA(when->expr, OpExpr) || list_length(((OpExpr *) when->expr)->args) != 2)
		return NULL;
	left = strip_implicit_coercions(linitial(((OpExpr *) when->expr)->args));
	return IsA(left, CaseTestExpr) ? lsecond(((OpExpr *) when->expr)->args) : NULL;
}

static PyObject *
describe_case(Walk *walk, CaseExpr *expr)
{
	PyObject   *kwargs = new_kwargs();
	PyObject   *whens = PyTuple_New(list_length(expr->args));
	bool		describable;
	ListCell   *lc;

	SGFDW_CHECK(whens, CONTEXT);
	describable = put_described(walk, kwargs, "arg", (Node *) expr->arg);
	foreach(lc, expr->args)
	{
		CaseWhen   *when = lfirst_node(CaseWhen, lc);
		Node	   *value = describable ? case_when_value(expr, when) : NULL;
		PyObject   *condition = value ? describe(walk, value) : NULL;
		PyObject   *result = condition ? describe(walk, (Node *) when->result) : NULL;

		describable = result != NULL;
		if (!describable)
		{
			Py_XDECREF(condition);
			break;
		}
		PyTuple_SET_ITEM(whens, foreach_current_index(lc), Py_BuildValue("(NN)", condition, result));
		SGFDW_CHECK(PyTuple_GET_ITEM(whens, foreach_current_index(lc)), CONTEXT);
	}
	put(kwargs, "whens", whens);
	return finish("Case", (Node *) expr, kwargs,
				  describable && put_described(walk, kwargs, "default", (Node *) expr->defresult));
}

static PyObject *
describe_list_node(Walk *walk, const char *name, Node *expr, const char *key, List *items)
{
	PyObject   *kwargs = new_kwargs();

	return finish(name, expr, kwargs, put_described_list(walk, kwargs, key, items));
}

static PyObject *
describe_min_max(Walk *walk, MinMaxExpr *expr)
{
	PyObject   *kwargs = new_kwargs();

	put(kwargs, "greatest", PyBool_FromLong(expr->op == IS_GREATEST));
	put(kwargs, "input_collation", sgfdw_collation_name(expr->inputcollid));
	return finish("MinMax", (Node *) expr, kwargs,
				  put_described_list(walk, kwargs, "args", expr->args));
}

static PyObject *
describe(Walk *walk, Node *node)
{
	check_stack_depth();
	if (walk->scope->outputs != NIL)
	{
		TargetEntry *entry = tlist_member((Expr *) node, walk->scope->outputs);

		if (entry != NULL)
			return output_node(node, entry);
	}
	if (is_value(walk, node))
		return value_node(walk, node);
	switch (nodeTag(node))
	{
		case T_Var:
			return column_node(walk, (Var *) node);
		case T_OpExpr:
			return describe_operator(walk, (OpExpr *) node);
		case T_DistinctExpr:
			return describe_comparison(walk, "Distinct", (OpExpr *) node);
		case T_NullIfExpr:
			return describe_comparison(walk, "NullIf", (OpExpr *) node);
		case T_FuncExpr:
			return describe_function(walk, (FuncExpr *) node);
		case T_RelabelType:
			return describe_cast(walk, node, (Node *) ((RelabelType *) node)->arg,
								 ((RelabelType *) node)->relabelformat != COERCE_EXPLICIT_CAST,
								 InvalidOid);
		case T_CoerceViaIO:
			return describe_io_cast(walk, (CoerceViaIO *) node);
		case T_ArrayCoerceExpr:
			return describe_array_cast(walk, (ArrayCoerceExpr *) node);
		case T_ScalarArrayOpExpr:
			return describe_any_all(walk, (ScalarArrayOpExpr *) node);
		case T_BoolExpr:
			return describe_bool(walk, (BoolExpr *) node);
		case T_NullTest:
			return describe_null_test(walk, (NullTest *) node);
		case T_BooleanTest:
			return describe_boolean_test(walk, (BooleanTest *) node);
		case T_CaseExpr:
			return describe_case(walk, (CaseExpr *) node);
		case T_ArrayExpr:
			return describe_list_node(walk, "ArrayLiteral", node, "elements",
									  ((ArrayExpr *) node)->elements);
		case T_CoalesceExpr:
			return describe_list_node(walk, "Coalesce", node, "args",
									  ((CoalesceExpr *) node)->args);
		case T_MinMaxExpr:
			return describe_min_max(walk, (MinMaxExpr *) node);
		default:
			return NULL;
	}
}

PyObject *
sgfdw_expression(Expr *expr, const SgExpressionScope *scope, SgExpressionValues *values)
{
	Walk		walk = {scope, values};
	int			first = list_length(values->exprs);
	Py_ssize_t	next = values->next;
	PyObject   *result = describe(&walk, (Node *) expr);

	if (result == NULL)
	{
		/* Nothing of a tree that is not described is kept. */
		values->exprs = list_truncate(values->exprs, first);
		values->next = next;
	}
	return result;
}
