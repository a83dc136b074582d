/*
 * pymodule.c
 *		The builtin Python module _sgfdw: what Python code in a backend may ask of it.
 *
 * A PostgreSQL error must never longjmp through Python frames, so every call into
 * PostgreSQL here runs under PG_TRY and comes back to Python as an exception. And
 * PostgreSQL is single-threaded: only the backend's own thread may enter it. Another
 * thread an FDW started gets an exception for SQL; its log messages go to the
 * server's stderr (the server log) instead of through ereport.
 */
#include "sgfdw.h"

#include "miscadmin.h"
#include "utils/memutils.h"

/* multicorn.utils levels are the logging module's: DEBUG 10, INFO 20, WARNING 30. */
static int
elevel_of(int level)
{
	if (level <= 10)
		return DEBUG1;
	if (level <= 20)
		return NOTICE;
	return WARNING;
}

static bool
in_backend_thread(void)
{
	return PyThread_get_thread_ident() == sgfdw_backend_thread;
}

/* The SQL functions of the module, called only in the backend's own thread. */
#define BACKEND_ONLY(name, function) \
static PyObject * \
name(PyObject *self, PyObject *args) \
{ \
	if (in_backend_thread()) \
		return function(self, args); \
	PyErr_SetString(PyExc_RuntimeError, \
					"sgfdw.pg can only be used from the backend's main thread"); \
	return NULL; \
}

static PyObject *
sgfdw_log(PyObject *self, PyObject *args)
{
	int			level;
	const char *message;
	const char *hint = NULL;
	const char *detail = NULL;
	MemoryContext context = CurrentMemoryContext;
	volatile bool failed = false;
	char	   *error_message = NULL;

	if (!PyArg_ParseTuple(args, "is|zz:log", &level, &message, &hint, &detail))
		return NULL;
	if (!in_backend_thread())
	{
		PySys_FormatStderr("sgfdw (a thread of backend %d): %s\n", MyProcPid, message);
		Py_RETURN_NONE;
	}
	PG_TRY();
	{
		ereport(elevel_of(level),
				(errmsg("%s", message),
				 hint ? errhint("%s", hint) : 0,
				 detail ? errdetail("%s", detail) : 0));
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(context);
		error = CopyErrorData();
		FlushErrorState();
		error_message = pstrdup(error->message);
		FreeErrorData(error);
		failed = true;
	}
	PG_END_TRY();
	if (failed)
	{
		PyErr_SetString(PyExc_RuntimeError, error_message);
		return NULL;
	}
	Py_RETURN_NONE;
}

BACKEND_ONLY(execute_checked, sgfdw_spi_execute)
BACKEND_ONLY(cursor_open_checked, sgfdw_spi_cursor_open)
BACKEND_ONLY(cursor_fetch_checked, sgfdw_spi_cursor_fetch)
BACKEND_ONLY(cursor_fetch_arrow_checked, sgfdw_spi_cursor_fetch_arrow)
BACKEND_ONLY(cursor_close_checked, sgfdw_spi_cursor_close)

static PyMethodDef methods[] = {
	{"log", sgfdw_log, METH_VARARGS,
	"log(level, message, hint=None, detail=None): report below ERROR through ereport."},
	{"execute", execute_checked, METH_VARARGS,
	"execute(sql, params=None, types=None): run one statement, return its rows."},
	{"cursor_open", cursor_open_checked, METH_VARARGS,
	"cursor_open(sql, params=None, types=None): open a cursor, return its name."},
	{"cursor_fetch", cursor_fetch_checked, METH_VARARGS,
	"cursor_fetch(name, count): the next rows of a cursor."},
	{"cursor_fetch_arrow", cursor_fetch_arrow_checked, METH_VARARGS,
	"cursor_fetch_arrow(name, count): the next rows of a cursor as an Arrow batch, or None."},
	{"cursor_close", cursor_close_checked, METH_VARARGS,
	"cursor_close(name): close a cursor."},
	{NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT, "_sgfdw",
	"The running PostgreSQL backend, as seen from Python.", -1, methods
};

PyObject *
PyInit__sgfdw(void)
{
	return PyModule_Create(&module);
}
