/*
 * function.c
 *		SQL functions whose body is a Python callable: the language sgfdw_python.
 *
 *	CREATE FUNCTION f(a int, b text DEFAULT 'x') RETURNS SETOF text
 *		LANGUAGE sgfdw_python AS 'package.module.callable';
 *
 * The language is untrusted, so only a superuser can define such a function; calling
 * it follows EXECUTE privileges. Defaults and named arguments are resolved by the
 * parser, so the callable always receives every argument, positionally. Arguments and
 * results use the bridge's conversions; a composite result is a sequence or a mapping
 * read as an FDW's row is (row.c) and a set-returning function returns an iterable.
 */
#include "sgfdw.h"

#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(sgfdw_python_call_handler);
PG_FUNCTION_INFO_V1(sgfdw_python_validator);

typedef struct SgFunction
{
	PyObject   *callable;
	int			nargs;
	SgConverter **arguments;
	TypeFuncClass result_class;
	Oid			result_type;
	TupleDesc	result_desc;	/* composite results */
	SgConverter **columns;		/* per result column, or [0] for a scalar */
	SgRowReader row;			/* composite results */
} SgFunction;

static char *
function_body(Oid fn_oid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	bool		isnull;
	Datum		body;
	char	   *result;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", fn_oid);
	body = SysCacheGetAttr(PROCOID, tuple, Anum_pg_proc_prosrc, &isnull);
	result = isnull ? pstrdup("") : TextDatumGetCString(body);
	ReleaseSysCache(tuple);
	return result;
}

static PyObject *
load_callable(const char *body)
{
	static PyObject *loader = NULL;
	PyObject   *args;
	PyObject   *callable;

	if (loader == NULL)
		loader = sgfdw_bridge_attr("load_callable");
	args = Py_BuildValue("(s)", body);
	SGFDW_CHECK(args, "loading the function's callable");
	callable = sgfdw_call(loader, args, NULL, "loading the function's callable");
	return callable;
}

static SgFunction *
describe_function(FunctionCallInfo fcinfo)
{
	MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	SgFunction *fn = palloc0(sizeof(SgFunction));
	Oid			fn_oid = fcinfo->flinfo->fn_oid;
	Oid		   *argtypes;
	char	  **argnames;
	char	   *argmodes;
	HeapTuple	proc = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));

	if (!HeapTupleIsValid(proc))
		elog(ERROR, "cache lookup failed for function %u", fn_oid);
	get_func_arg_info(proc, &argtypes, &argnames, &argmodes);
	ReleaseSysCache(proc);

	fn->callable = load_callable(function_body(fn_oid));
	fn->nargs = fcinfo->nargs;
	fn->arguments = palloc(sizeof(SgConverter *) * Max(fn->nargs, 1));
	for (int i = 0; i < fn->nargs; i++)
		fn->arguments[i] = sgconv_create(get_fn_expr_argtype(fcinfo->flinfo, i) != InvalidOid
										 ? get_fn_expr_argtype(fcinfo->flinfo, i)
										 : argtypes[i], -1);

	fn->result_class = get_call_result_type(fcinfo, &fn->result_type, &fn->result_desc);
	if (fn->result_class == TYPEFUNC_COMPOSITE)
	{
		int			natts;

		fn->result_desc = BlessTupleDesc(CreateTupleDescCopy(fn->result_desc));
		natts = fn->result_desc->natts;
		fn->columns = palloc(sizeof(SgConverter *) * natts);
		fn->row.ncolumns = natts;
		fn->row.nentries = natts;
		fn->row.positions = palloc(sizeof(int) * natts);
		fn->row.keys = palloc(sizeof(PyObject *) * natts);
		fn->row.converters = fn->columns;
		/* Column i of the row is attribute i of the tuple. */
		fn->row.value_indexes = fn->row.positions;
		fn->row.source = psprintf("function %s", get_func_name(fn_oid));
		fn->row.target = psprintf("type %s", format_type_be(fn->result_type));
		for (int i = 0; i < natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(fn->result_desc, i);

			fn->columns[i] = sgconv_create(att->atttypid, att->atttypmod);
			fn->row.positions[i] = i;
			fn->row.keys[i] = sgfdw_str(NameStr(att->attname));
		}
	}
	else if (fn->result_class == TYPEFUNC_SCALAR)
	{
		fn->columns = palloc(sizeof(SgConverter *));
		fn->columns[0] = sgconv_create(fn->result_type, -1);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("sgfdw_python functions must return a scalar or a composite type "
						"with known columns")));
	MemoryContextSwitchTo(old);
	return fn;
}

/* One composite value from a row; a mapping's missing key is a NULL. */
static HeapTuple
python_to_tuple(SgFunction *fn, PyObject *value)
{
	int			natts = fn->result_desc->natts;
	Datum	   *values = palloc(sizeof(Datum) * natts);
	bool	   *nulls = palloc(sizeof(bool) * natts);

	memset(nulls, true, sizeof(bool) * natts);
	sgrow_read(&fn->row, value, values, nulls, NULL, NULL);
	return heap_form_tuple(fn->result_desc, values, nulls);
}

/* One item of a set-returning function's result into the store; takes over item. */
static void
store_item(SgFunction *fn, Tuplestorestate *store, TupleDesc desc, PyObject *item)
{
	PG_TRY();
	{
		if (fn->result_class == TYPEFUNC_COMPOSITE)
			tuplestore_puttuple(store, python_to_tuple(fn, item));
		else
		{
			bool		isnull;
			Datum		value = sgconv_to_datum(fn->columns[0], item, &isnull);

			tuplestore_putvalues(store, desc, &value, &isnull);
		}
	}
	PG_FINALLY();
	{
		Py_DECREF(item);
	}
	PG_END_TRY();
}

static Datum
return_set(FunctionCallInfo fcinfo, SgFunction *fn, PyObject *result)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext old;
	Tuplestorestate *store;
	TupleDesc	desc;
	PyObject   *iterator;
	PyObject   *item;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	store = tuplestore_begin_heap(true, false, work_mem);
	if (fn->result_class == TYPEFUNC_COMPOSITE)
		desc = CreateTupleDescCopy(fn->result_desc);
	else
	{
		desc = CreateTemplateTupleDesc(1);
		TupleDescInitEntry(desc, 1, "value", fn->result_type, -1, 0);
	}
	MemoryContextSwitchTo(old);

	iterator = PyObject_GetIter(result);
	if (iterator == NULL)
		sgfdw_report_python_error(ERRCODE_DATATYPE_MISMATCH,
								  "a set-returning function must return an iterable");
	PG_TRY();
	{
		for (;;)
		{
			SGFDW_ENTER_PYTHON();
			item = PyIter_Next(iterator);
			SGFDW_LEAVE_PYTHON();
			if (item == NULL)
				break;
			old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
			store_item(fn, store, desc, item);
			MemoryContextSwitchTo(old);
		}
	}
	PG_FINALLY();
	{
		Py_DECREF(iterator);
	}
	PG_END_TRY();
	if (PyErr_Occurred())
		sgfdw_report_python_error(0, "iterating a set-returning function's result");
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = desc;
	return (Datum) 0;
}

/* The function's Datum from the callable's result (a set goes to rsinfo). */
static Datum
result_datum(FunctionCallInfo fcinfo, SgFunction *fn, PyObject *result, bool *isnull)
{
	*isnull = false;
	if (fcinfo->flinfo->fn_retset)
		return return_set(fcinfo, fn, result);
	if (fn->result_type == VOIDOID)
		return (Datum) 0;
	*isnull = result == Py_None;
	if (*isnull)
		return (Datum) 0;
	if (fn->result_class == TYPEFUNC_COMPOSITE)
		return HeapTupleGetDatum(python_to_tuple(fn, result));
	return sgconv_to_datum(fn->columns[0], result, isnull);
}

Datum
sgfdw_python_call_handler(PG_FUNCTION_ARGS)
{
	SgFunction *fn;
	PyObject   *args;
	PyObject   *result;
	Datum		datum;
	bool		isnull;

	sgfdw_ensure_python();
	sgfdw_discard_stale_interrupt();
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = describe_function(fcinfo);
	fn = fcinfo->flinfo->fn_extra;

	args = PyTuple_New(fn->nargs);
	SGFDW_CHECK(args, "building arguments");
	for (int i = 0; i < fn->nargs; i++)
		PyTuple_SET_ITEM(args, i, sgconv_to_python(fn->arguments[i], PG_GETARG_DATUM(i),
													PG_ARGISNULL(i)));
	result = sgfdw_call(fn->callable, args, NULL, get_func_name(fcinfo->flinfo->fn_oid));

	/* The result is released also when it cannot be converted: it may be large. */
	PG_TRY();
	{
		datum = result_datum(fcinfo, fn, result, &isnull);
	}
	PG_FINALLY();
	{
		Py_DECREF(result);
	}
	PG_END_TRY();
	if (isnull)
		PG_RETURN_NULL();
	return datum;
}

/* The body must name an importable callable; checked when bodies are checked. */
Datum
sgfdw_python_validator(PG_FUNCTION_ARGS)
{
	Oid			fn_oid = PG_GETARG_OID(0);
	PyObject   *callable;

	if (!CheckFunctionValidatorAccess(fcinfo->flinfo->fn_oid, fn_oid) || !check_function_bodies)
		PG_RETURN_VOID();
	sgfdw_ensure_python();
	callable = load_callable(function_body(fn_oid));
	Py_DECREF(callable);
	PG_RETURN_VOID();
}
