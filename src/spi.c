/*
 * spi.c
 *		In-process SQL for Python code in a backend (the C half of sgfdw.pg).
 *
 * Each call runs in its own internal subtransaction, like PL/Python's plpy.execute in
 * a try block: an SQL error rolls back only that statement and comes back to Python as
 * sgfdw.errors.SqlError with its SQLSTATE, so Python can catch it and go on. Parameter
 * types are inferred by the parser from the statement (seeded with the Python values'
 * natural types), then values are converted with the bridge's lossless converters.
 */
#include "sgfdw.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/params.h"
#include "parser/parse_param.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

typedef struct SpiParams
{
	Oid		   *types;
	int			ntypes;
	int			highest_used;	/* the highest $n the statement refers to */
} SpiParams;

/*
 * The parser's own hook for variable parameters, wrapped to see which $n the statement
 * uses: the types array is seeded with one entry per value given, so it alone cannot
 * tell that more values were given than the statement takes.
 */
static ParseParamRefHook variable_param_hook = NULL;
static SpiParams *params_being_parsed = NULL;

static Node *
count_param_ref(ParseState *pstate, ParamRef *ref)
{
	if (params_being_parsed && ref->number > params_being_parsed->highest_used)
		params_being_parsed->highest_used = ref->number;
	return variable_param_hook(pstate, ref);
}

static void
setup_params(ParseState *pstate, void *arg)
{
	SpiParams  *params = arg;

#if PG_VERSION_NUM >= 150000
	setup_parse_variable_parameters(pstate, &params->types, &params->ntypes);
#else
	parse_variable_parameters(pstate, &params->types, &params->ntypes);
#endif
	variable_param_hook = pstate->p_paramref_hook;
	pstate->p_paramref_hook = count_param_ref;
}

/* Sets the Python exception sgfdw.errors.<class_name>(message, sqlstate=, detail=, hint=). */
static void
raise_sgfdw_error(const char *class_name, const char *sqlstate, const char *message,
				  const char *detail, const char *hint)
{
	PyObject   *module = PyImport_ImportModule("sgfdw.errors");
	PyObject   *error_class = module ? PyObject_GetAttrString(module, class_name) : NULL;
	PyObject   *kwargs = NULL;
	PyObject   *args = NULL;
	PyObject   *exception = NULL;

	/* On any failure here, that failure is the Python exception. */
	if (error_class)
		kwargs = Py_BuildValue("{s:s,s:z,s:z}", "sqlstate", sqlstate, "detail", detail,
							   "hint", hint);
	if (kwargs)
		args = Py_BuildValue("(s)", message);
	if (args)
		exception = PyObject_Call(error_class, args, kwargs);
	if (exception)
		PyErr_SetObject((PyObject *) Py_TYPE(exception), exception);
	Py_XDECREF(exception);
	Py_XDECREF(args);
	Py_XDECREF(kwargs);
	Py_XDECREF(error_class);
	Py_XDECREF(module);
}

static void
raise_sql_error(ErrorData *error)
{
	raise_sgfdw_error("SqlError", unpack_sql_state(error->sqlerrcode),
					  error->message ? error->message : "SQL error", error->detail, error->hint);
}

/*
 * SQL needs a transaction in progress that may start a subtransaction. While one is
 * aborting (an FDW's rollback() or sub_rollback()) or committing (commit(),
 * sub_commit()), or during a parallel operation, starting a subtransaction would end
 * the session (FATAL) or fail outside of any error handling; the Python caller gets an
 * exception it can catch instead.
 */
static bool
can_run_sql(void)
{
	if (sgfdw_xact_ending == SG_XACT_COMMITTING)
	{
		raise_sgfdw_error("SqlError", "25000",
						  "cannot run SQL through sgfdw.pg while the transaction or "
						  "subtransaction commits", NULL,
						  "Run it in pre_commit() or before.");
		return false;
	}
	if (sgfdw_xact_ending == SG_XACT_ABORTING || !IsTransactionState())
	{
		raise_sgfdw_error("InFailedSqlTransaction", "25P02",
						  "cannot run SQL through sgfdw.pg while the transaction is aborted",
						  NULL, NULL);
		return false;
	}
	if (IsInParallelMode())
	{
		raise_sgfdw_error("SqlError", "25000",
						  "cannot run SQL through sgfdw.pg during a parallel operation",
						  NULL, "Declare the function PARALLEL UNSAFE.");
		return false;
	}
	return true;
}

/*
 * Parses and plans sql; spi_params gets the parameter types the parser settled on.
 * (A plan prepared with a parser hook keeps no argument types of its own.)
 */
static SPIPlanPtr
prepare(const char *sql, PyObject *params, PyObject *types, SpiParams *out)
{
	SpiParams  *spi_params = out;
	SPIPrepareOptions options;
	SPIPlanPtr	plan;
	Py_ssize_t	count = PyTuple_GET_SIZE(params);

	spi_params->ntypes = (int) count;
	spi_params->highest_used = 0;
	spi_params->types = palloc0(sizeof(Oid) * Max(count, 1));
	for (Py_ssize_t i = 0; i < count && types != Py_None; i++)
		spi_params->types[i] = (Oid) PyLong_AsUnsignedLong(PyTuple_GET_ITEM(types, i));
	memset(&options, 0, sizeof(options));
	options.parserSetup = setup_params;
	options.parserSetupArg = spi_params;
	options.parseMode = RAW_PARSE_DEFAULT;
	params_being_parsed = spi_params;
	plan = SPI_prepare_extended(sql, &options);
	params_being_parsed = NULL;
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (list_length(SPI_plan_get_plan_sources(plan)) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("sgfdw.pg runs one statement at a time")));
	if (spi_params->highest_used != count || spi_params->ntypes != count)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_PARAMETER),
				 errmsg("the statement has %d parameters but %zd values were given",
						Max(spi_params->ntypes, spi_params->highest_used), count)));
	return plan;
}

static ParamListInfo
bind(SpiParams *spi_params, PyObject *params)
{
	ParamListInfo bound = makeParamList(spi_params->ntypes);

	for (int i = 0; i < spi_params->ntypes; i++)
	{
		Oid			type = OidIsValid(spi_params->types[i]) ? spi_params->types[i] : UNKNOWNOID;
		ParamExternData *param = &bound->params[i];

		param->value = sgconv_to_datum(sgconv_create(type, -1), PyTuple_GET_ITEM(params, i),
									   &param->isnull);
		param->pflags = PARAM_FLAG_CONST;
		param->ptype = type;
	}
	return bound;
}

static PyObject *
result_rows(void)
{
	SPITupleTable *table = SPI_tuptable;
	PyObject   *rows;
	SgConverter **converters;
	TupleDesc	desc;

	if (table == NULL)
		return PyList_New(0);
	desc = table->tupdesc;
	converters = palloc(sizeof(SgConverter *) * Max(desc->natts, 1));
	for (int i = 0; i < desc->natts; i++)
		converters[i] = sgconv_create(TupleDescAttr(desc, i)->atttypid,
									  TupleDescAttr(desc, i)->atttypmod);
	rows = PyList_New(table->numvals);
	SGFDW_CHECK(rows, "building result rows");
	for (uint64 r = 0; r < table->numvals; r++)
	{
		PyObject   *row = PyTuple_New(desc->natts);

		SGFDW_CHECK(row, "building result rows");
		for (int i = 0; i < desc->natts; i++)
		{
			bool		isnull;
			Datum		value = SPI_getbinval(table->vals[r], desc, i + 1, &isnull);

			PyTuple_SET_ITEM(row, i, sgconv_to_python(converters[i], value, isnull));
		}
		PyList_SET_ITEM(rows, r, row);
	}
	return rows;
}

static void
check_spi_result(int code)
{
	if (code == SPI_ERROR_TRANSACTION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("transaction control statements cannot run through sgfdw.pg"),
				 errhint("Use savepoints by catching sgfdw.errors.SqlError instead.")));
	if (code < 0)
		elog(ERROR, "SPI could not run the statement: %s", SPI_result_code_string(code));
}

typedef enum SpiAction
{
	SPI_ACTION_EXECUTE,
	SPI_ACTION_OPEN,
	SPI_ACTION_FETCH,
	SPI_ACTION_FETCH_ARROW,		/* the rows as one Arrow batch (arrow_out.c) */
	SPI_ACTION_CLOSE
} SpiAction;

/*
 * Runs one action in a subtransaction; NULL with a Python exception on failure.
 * params and types are tuples (or None for types), checked by checked_params.
 */
static PyObject *
run_in_subtransaction(SpiAction action, const char *text, PyObject *params, PyObject *types,
					  long count)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	PyObject   *volatile result = NULL;
	volatile bool pushed_snapshot = false;

	if (!can_run_sql())
		return NULL;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		SPIPlanPtr	plan;
		SpiParams	spi_params;
		SPIExecuteOptions execute_options;
		Portal		portal;

		/* At commit (pre_commit()) no snapshot is active: take one, as deferred triggers do. */
		if (!ActiveSnapshotSet())
		{
			PushActiveSnapshot(GetTransactionSnapshot());
			pushed_snapshot = true;
		}
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		switch (action)
		{
			case SPI_ACTION_EXECUTE:
				plan = prepare(text, params, types, &spi_params);
				memset(&execute_options, 0, sizeof(execute_options));
				execute_options.params = bind(&spi_params, params);
				check_spi_result(SPI_execute_plan_extended(plan, &execute_options));
				result = result_rows();
				break;
			case SPI_ACTION_OPEN:
				plan = prepare(text, params, types, &spi_params);
				portal = SPI_cursor_open_with_paramlist(NULL, plan,
														bind(&spi_params, params), false);
				result = sgfdw_str(portal->name);
				break;
			case SPI_ACTION_FETCH:
			case SPI_ACTION_FETCH_ARROW:
			case SPI_ACTION_CLOSE:
				portal = SPI_cursor_find(text);
				if (portal == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_CURSOR),
							 errmsg("cursor \"%s\" does not exist", text)));
				if (action == SPI_ACTION_CLOSE)
				{
					SPI_cursor_close(portal);
					result = Py_None;
					Py_INCREF(result);
				}
				else
				{
					SPI_cursor_fetch(portal, true, count);
					result = action == SPI_ACTION_FETCH ? result_rows() :
						sgarrow_batch_from_spi();
				}
				break;
		}
		SPI_finish();
		if (pushed_snapshot)
			PopActiveSnapshot();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(context);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
		Py_CLEAR(result);
		PyErr_Clear();
		raise_sql_error(error);
		FreeErrorData(error);
		return NULL;
	}
	PG_END_TRY();
	return result;
}

/*
 * _sgfdw is reachable from any Python code, so its arguments are checked here rather
 * than trusted to come from sgfdw.pg: params a list or tuple, types None or one type
 * OID per value. Returns tuples of both (new references; held while the values are
 * converted, since converting runs Python that could change a list), or false with a
 * Python exception.
 */
static bool
checked_params(PyObject *params, PyObject *types, PyObject **param_tuple, PyObject **type_tuple)
{
	Py_ssize_t	count;

	if (params != Py_None && !PyList_Check(params) && !PyTuple_Check(params))
	{
		PyErr_Format(PyExc_TypeError, "params must be a list or a tuple, not %.200s",
					 Py_TYPE(params)->tp_name);
		return false;
	}
	count = params == Py_None ? 0 : PySequence_Fast_GET_SIZE(params);
	if (types != Py_None)
	{
		if ((!PyList_Check(types) && !PyTuple_Check(types)) ||
			PySequence_Fast_GET_SIZE(types) != count)
		{
			PyErr_SetString(PyExc_TypeError,
							"types must be None or a list with one type OID per parameter");
			return false;
		}
		for (Py_ssize_t i = 0; i < count; i++)
		{
			PyObject   *type = PySequence_Fast_GET_ITEM(types, i);
			unsigned long oid = PyLong_Check(type) ? PyLong_AsUnsignedLong(type) : (unsigned long) -1;

			if (oid > PG_UINT32_MAX)
			{
				PyErr_Clear();
				PyErr_Format(PyExc_ValueError, "types[%zd] is not a type OID", i);
				return false;
			}
		}
	}
	*param_tuple = params == Py_None ? PyTuple_New(0) : PySequence_Tuple(params);
	*type_tuple = types == Py_None ? Py_NewRef(Py_None) : PySequence_Tuple(types);
	if (*param_tuple == NULL || *type_tuple == NULL)
	{
		Py_CLEAR(*param_tuple);
		Py_CLEAR(*type_tuple);
		return false;
	}
	return true;
}

/* execute(sql, params=None, types=None) and cursor_open(...): one statement. */
static PyObject *
run_statement(SpiAction action, PyObject *args, const char *format)
{
	const char *sql;
	PyObject   *params = Py_None;
	PyObject   *types = Py_None;
	PyObject   *param_tuple;
	PyObject   *type_tuple;
	PyObject   *result;

	if (!PyArg_ParseTuple(args, format, &sql, &params, &types) ||
		!checked_params(params, types, &param_tuple, &type_tuple))
		return NULL;
	result = run_in_subtransaction(action, sql, param_tuple, type_tuple, 0);
	Py_DECREF(param_tuple);
	Py_DECREF(type_tuple);
	return result;
}

PyObject *
sgfdw_spi_execute(PyObject *self, PyObject *args)
{
	return run_statement(SPI_ACTION_EXECUTE, args, "s|OO:execute");
}

PyObject *
sgfdw_spi_cursor_open(PyObject *self, PyObject *args)
{
	return run_statement(SPI_ACTION_OPEN, args, "s|OO:cursor_open");
}

/* cursor_fetch(name, count) and cursor_fetch_arrow(name, count) */
static PyObject *
fetch(SpiAction action, PyObject *args, const char *format)
{
	const char *name;
	long		count;

	if (!PyArg_ParseTuple(args, format, &name, &count))
		return NULL;
	if (count < 1)
	{
		PyErr_SetString(PyExc_ValueError, "count must be at least 1");
		return NULL;
	}
	return run_in_subtransaction(action, name, NULL, Py_None, count);
}

PyObject *
sgfdw_spi_cursor_fetch(PyObject *self, PyObject *args)
{
	return fetch(SPI_ACTION_FETCH, args, "sl:cursor_fetch");
}

PyObject *
sgfdw_spi_cursor_fetch_arrow(PyObject *self, PyObject *args)
{
	return fetch(SPI_ACTION_FETCH_ARROW, args, "sl:cursor_fetch_arrow");
}

PyObject *
sgfdw_spi_cursor_close(PyObject *self, PyObject *args)
{
	const char *name;

	if (!PyArg_ParseTuple(args, "s:cursor_close", &name))
		return NULL;
	return run_in_subtransaction(SPI_ACTION_CLOSE, name, NULL, Py_None, 0);
}
