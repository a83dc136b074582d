/*
 * errors.c
 *		Python exceptions -> ereport with a SQLSTATE, and PostgreSQL interrupts -> Python.
 *
 * PostgreSQL's cancel (pg_cancel_backend, statement_timeout) and terminate arrive as
 * SIGINT / SIGTERM and only set flags that CHECK_FOR_INTERRUPTS reads; Python code that
 * sleeps, loops or waits on a socket never reaches such a check. So while Python runs,
 * the signal is also forwarded to the interpreter as a simulated SIGINT, which raises
 * KeyboardInterrupt in the callback; the bridge turns that back into PostgreSQL's own
 * interrupt processing.
 */
#include "sgfdw.h"

#include <signal.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/elog.h"

volatile sig_atomic_t sgfdw_python_depth = 0;

static struct sigaction previous_sigint;
static struct sigaction previous_sigterm;
static struct sigaction previous_sigalrm;

static void
call_previous(const struct sigaction *previous, int signo, siginfo_t *info, void *ucontext)
{
	if (previous->sa_flags & SA_SIGINFO)
	{
		if (previous->sa_sigaction)
			previous->sa_sigaction(signo, info, ucontext);
	}
	else if (previous->sa_handler != SIG_DFL && previous->sa_handler != SIG_IGN &&
			 previous->sa_handler != NULL)
		previous->sa_handler(signo);
}

static void
forward_interrupt(int signo, siginfo_t *info, void *ucontext)
{
	int			save_errno = errno;

	switch (signo)
	{
		case SIGINT:
			call_previous(&previous_sigint, signo, info, ucontext);
			break;
		case SIGTERM:
			call_previous(&previous_sigterm, signo, info, ucontext);
			break;
		default:
			/* statement_timeout's SIGALRM raises SIGINT itself, from its handler. */
			call_previous(&previous_sigalrm, signo, info, ucontext);
			errno = save_errno;
			return;
	}
	if (sgfdw_python_depth > 0)
		PyErr_SetInterruptEx(SIGINT);	/* async-signal-safe */
	errno = save_errno;
}

static void
wrap_handler(int signo, struct sigaction *previous)
{
	struct sigaction action;

	memset(&action, 0, sizeof(action));
	action.sa_sigaction = forward_interrupt;
	/*
	 * No SA_RESTART: a Python callback blocked in a restartable call (recv on a socket
	 * without timeout) must see EINTR to notice the interrupt. That includes SIGALRM,
	 * whose handler sends the SIGINT of statement_timeout while the call is
	 * interrupted by SIGALRM. PostgreSQL's own I/O and waits retry on EINTR.
	 */
	action.sa_flags = SA_SIGINFO;
	sigfillset(&action.sa_mask);
	if (sigaction(signo, &action, previous) < 0)
		elog(WARNING, "could not install the interrupt handler for signal %d: %m", signo);
}

/*
 * Python needs a Python-level SIGINT handler to turn a simulated SIGINT into
 * KeyboardInterrupt. signal.signal() also installs an OS handler, so the backend's own
 * handler is saved first and put back, wrapped, afterwards.
 */
void
sgfdw_install_interrupt_forwarding(void)
{
	struct sigaction backend_sigint;
	PyObject   *signal_module;
	PyObject   *result = NULL;

	sigaction(SIGINT, NULL, &backend_sigint);
	signal_module = PyImport_ImportModule("signal");
	if (signal_module)
		result = PyObject_CallMethod(signal_module, "signal", "iO", SIGINT,
									 PyObject_GetAttrString(signal_module,
															"default_int_handler"));
	if (result == NULL)
		sgfdw_report_python_error(0, "installing the Python SIGINT handler");
	Py_DECREF(result);
	Py_DECREF(signal_module);
	sigaction(SIGINT, &backend_sigint, NULL);

	wrap_handler(SIGINT, &previous_sigint);
	wrap_handler(SIGTERM, &previous_sigterm);
	wrap_handler(SIGALRM, &previous_sigalrm);
}

/*
 * A signal forwarded just as a callback returned stays pending in Python and would
 * interrupt the next, unrelated, callback; drop it when PostgreSQL has nothing pending.
 */
void
sgfdw_discard_stale_interrupt(void)
{
	if (InterruptPending)
		return;
	if (PyErr_CheckSignals() < 0)
		PyErr_Clear();
}

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

PyObject *
sgfdw_call(PyObject *callable, PyObject *args, PyObject *kwargs, const char *context)
{
	PyObject   *result;

	if (args == NULL)
		args = PyTuple_New(0);
	SGFDW_ENTER_PYTHON();
	result = args ? PyObject_Call(callable, args, kwargs) : NULL;
	SGFDW_LEAVE_PYTHON();
	Py_XDECREF(args);
	if (result == NULL)
		sgfdw_report_python_error(0, context);
	return result;
}

PyObject *
sgfdw_call_method(PyObject *obj, const char *method, PyObject *args, PyObject *kwargs,
				  const char *context)
{
	PyObject   *callable = PyObject_GetAttrString(obj, method);
	PyObject   *result;

	if (callable == NULL)
	{
		Py_XDECREF(args);
		sgfdw_report_python_error(0, context);
	}
	result = sgfdw_call(callable, args, kwargs, context);
	Py_DECREF(callable);
	return result;
}

/*
 * The UTF-8 bytes of a Python str (valid while it lives). Python strs can hold what
 * UTF-8 cannot (lone surrogates such as "\ud800"); that is the caller's bad data, an
 * ERROR 22021, never a NULL for C code to trip on. Every str the bridge reads as C text
 * goes through here.
 */
const char *
sgfdw_utf8(PyObject *str, Py_ssize_t *size, const char *what)
{
	const char *data;
	Py_ssize_t	length;

	if (!PyUnicode_Check(str))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("%s must be a str, not %s", what, Py_TYPE(str)->tp_name)));
	data = PyUnicode_AsUTF8AndSize(str, &length);
	if (data == NULL)
	{
		char	   *reason = sgfdw_exception_text();

		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("%s is not valid Unicode text", what),
				 reason ? errdetail("%s", reason) : 0));
	}
	if (size)
		*size = length;
	return data;
}

/* A palloc'd C string in the server encoding; NUL characters cannot be kept in one. */
char *
sgfdw_cstring(PyObject *str, const char *what)
{
	Py_ssize_t	size;
	const char *data = sgfdw_utf8(str, &size, what);
	char	   *result;

	if (memchr(data, '\0', size) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("%s cannot contain NUL (0x00) characters", what)));
	result = pg_any_to_server(data, (int) size, PG_UTF8);
	return result == data ? pnstrdup(data, size) : result;
}

/*
 * Python truth of a result (__bool__ may raise): a failure is reported, never left
 * pending to surface in a later, unrelated call.
 */
bool
sgfdw_truth(PyObject *obj, const char *context)
{
	int			truth;

	SGFDW_ENTER_PYTHON();
	truth = PyObject_IsTrue(obj);
	SGFDW_LEAVE_PYTHON();
	if (truth < 0)
		sgfdw_report_python_error(ERRCODE_FDW_INVALID_DATA_TYPE, context);
	return truth == 1;
}

PyObject *
sgfdw_str(const char *s)
{
	PyObject   *result;

	if (s == NULL)
		Py_RETURN_NONE;
	result = PyUnicode_DecodeUTF8(s, strlen(s), "replace");
	SGFDW_CHECK(result, "converting a string to Python");
	return result;
}
