/*
 * pyerror.c
 *		A Python exception -> ereport with a SQLSTATE.
 *
 * The SQLSTATE is the exception's own when it carries one (sgfdw.errors, Multicorn's
 * log_to_postgres, psycopg2's pgcode), else one fitting its class, else the caller's
 * default. A KeyboardInterrupt is the cancel forwarded by interrupts.c: PostgreSQL
 * reports it as its own.
 */
#include "sgfdw.h"

#include "miscadmin.h"
#include "utils/elog.h"

/*
 * A str as palloc'd text for an error message, or NULL. Lossy on purpose (lone
 * surrogates become backslash escapes): reporting an error must not fail itself.
 */
static char *
message_text(PyObject *str)
{
	PyObject   *encoded = NULL;
	char	   *result = NULL;

	if (str && PyUnicode_Check(str))
		encoded = PyUnicode_AsEncodedString(str, "utf-8", "backslashreplace");
	if (encoded)
		result = pstrdup(PyBytes_AS_STRING(encoded));
	Py_XDECREF(encoded);
	PyErr_Clear();
	return result;
}

/*
 * The pending Python exception's message as C text, for a DETAIL, and the exception
 * cleared.
 */
char *
sgfdw_exception_text(void)
{
	PyObject   *type,
			   *value,
			   *tb;
	PyObject   *text;
	char	   *result;

	PyErr_Fetch(&type, &value, &tb);
	text = value ? PyObject_Str(value) : NULL;
	result = message_text(text);
	Py_XDECREF(text);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	PyErr_Clear();
	return result;
}

static char *
string_attribute(PyObject *obj, const char *name)
{
	PyObject   *attr;
	char	   *result = NULL;

	if (obj == NULL || !PyObject_HasAttrString(obj, name))
		return NULL;
	attr = PyObject_GetAttrString(obj, name);
	result = message_text(attr);
	Py_XDECREF(attr);
	PyErr_Clear();
	return result;
}

static char *
format_traceback(PyObject *type, PyObject *value, PyObject *tb)
{
	PyObject   *module = PyImport_ImportModule("traceback");
	PyObject   *lines = NULL;
	PyObject   *joined = NULL;
	PyObject   *empty = NULL;
	char	   *result = NULL;

	if (module)
		lines = PyObject_CallMethod(module, "format_exception", "OOOOO",
									type, value ? value : Py_None, tb ? tb : Py_None,
									Py_None, Py_False);
	if (lines)
		empty = PyUnicode_FromString("");
	if (empty)
		joined = PyUnicode_Join(empty, lines);
	result = message_text(joined);
	/* No trailing newline in DETAIL. */
	while (result && *result && result[strlen(result) - 1] == '\n')
		result[strlen(result) - 1] = '\0';
	Py_XDECREF(module);
	Py_XDECREF(lines);
	Py_XDECREF(empty);
	Py_XDECREF(joined);
	PyErr_Clear();
	return result;
}

static int
sqlstate_from_string(const char *code)
{
	if (code == NULL || strlen(code) != 5)
		return 0;
	for (int i = 0; i < 5; i++)
		if (!((code[i] >= '0' && code[i] <= '9') || (code[i] >= 'A' && code[i] <= 'Z')))
			return 0;
	return MAKE_SQLSTATE(code[0], code[1], code[2], code[3], code[4]);
}

static int
sqlstate_of_class(PyObject *type)
{
	if (PyErr_GivenExceptionMatches(type, PyExc_MemoryError))
		return ERRCODE_OUT_OF_MEMORY;
	if (PyErr_GivenExceptionMatches(type, PyExc_NotImplementedError))
		return ERRCODE_FEATURE_NOT_SUPPORTED;
	if (PyErr_GivenExceptionMatches(type, PyExc_RecursionError))
		return ERRCODE_STATEMENT_TOO_COMPLEX;
	return 0;
}

void
sgfdw_report_python_error(int default_sqlstate, const char *context)
{
	PyObject   *type,
			   *value,
			   *tb;
	char	   *message = NULL;
	char	   *hint;
	char	   *detail;
	char	   *traceback_text;
	int			sqlstate;
	bool		own_sqlstate;
	bool		deliberate;
	bool		fatal = false;

	PyErr_Fetch(&type, &value, &tb);
	if (type == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("Python call failed without setting an exception"),
				 context ? errcontext("%s", context) : 0));
	PyErr_NormalizeException(&type, &value, &tb);
	if (tb && value)
		PyException_SetTraceback(value, tb);

	if (PyErr_GivenExceptionMatches(type, PyExc_KeyboardInterrupt))
	{
		Py_XDECREF(type);
		Py_XDECREF(value);
		Py_XDECREF(tb);
		/* The interrupt that caused it is pending: let PostgreSQL report it. */
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling statement due to user request"),
				 context ? errcontext("%s", context) : 0));
	}

	sqlstate = sqlstate_from_string(string_attribute(value, "sqlstate"));
	deliberate = sqlstate != 0;
	if (sqlstate == 0)
		sqlstate = sqlstate_from_string(string_attribute(value, "pgcode"));
	own_sqlstate = sqlstate != 0;
	if (sqlstate == 0)
		sqlstate = sqlstate_of_class(type);
	if (sqlstate == 0)
		sqlstate = default_sqlstate ? default_sqlstate : ERRCODE_FDW_ERROR;

	hint = string_attribute(value, "hint");
	detail = string_attribute(value, "detail");
	if (value && PyObject_HasAttrString(value, "fatal"))
	{
		PyObject   *flag = PyObject_GetAttrString(value, "fatal");

		fatal = flag && PyObject_IsTrue(flag) == 1;
		Py_XDECREF(flag);
		PyErr_Clear();
	}

	if (value)
	{
		PyObject   *text = PyObject_Str(value);

		if (text && PyUnicode_GetLength(text) > 0)
		{
			char	   *utf8 = message_text(text);

			if (utf8)
				message = own_sqlstate ? utf8
					: psprintf("%s: %s", ((PyTypeObject *) type)->tp_name, utf8);
		}
		Py_XDECREF(text);
		PyErr_Clear();
	}
	if (message == NULL)
		message = pstrdup(((PyTypeObject *) type)->tp_name);
	/*
	 * An exception raised with its own `sqlstate` (sgfdw.errors, log_to_postgres) is a
	 * report meant for the user, such as a bad option or a missing remote table: its
	 * message says it all. A traceback is for the other ones, the FDW's bugs (psycopg2's
	 * errors carry `pgcode` and escaped the FDW unhandled: they keep theirs).
	 */
	traceback_text = deliberate ? NULL : format_traceback(type, value, tb);

	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);

	ereport(fatal ? FATAL : ERROR,
			(errcode(sqlstate),
			 errmsg("%s", message),
			 detail ? errdetail("%s", detail) :
			 traceback_text ? errdetail("%s", traceback_text) : 0,
			 hint ? errhint("%s", hint) : 0,
			 context ? errcontext("%s", context) : 0));
	pg_unreachable();
}
