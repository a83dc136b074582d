/*
 * pycall.c
 *		Calls into Python, each with its failure reported.
 *
 * Every call goes through these so that a cancel arriving while Python runs is
 * forwarded to it (SGFDW_ENTER_PYTHON, interrupts.c) and an exception never stays
 * pending to surface in a later, unrelated call.
 */
#include "sgfdw.h"

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

/*
 * The FDW's yes or no to what it is offered: method(*args), both references taken
 * over (an opt-in hook such as can_join or can_modify_directly).
 */
bool
sgfdw_accepts(PyObject *method, PyObject *args, const char *context)
{
	PyObject   *answer = sgfdw_call(method, args, NULL, context);
	bool		accepted;

	Py_DECREF(method);
	PG_TRY();
	{
		accepted = sgfdw_truth(answer, context);
	}
	PG_FINALLY();
	{
		Py_DECREF(answer);
	}
	PG_END_TRY();
	return accepted;
}

/*
 * An attribute an FDW class may leave out (sgfdw's opt-in hooks): a new reference, or
 * NULL when it has none; any other error raised getting it is reported.
 */
PyObject *
sgfdw_optional_attr(PyObject *obj, const char *name)
{
	PyObject   *value = PyObject_GetAttrString(obj, name);

	if (value == NULL)
	{
		if (!PyErr_ExceptionMatches(PyExc_AttributeError))
			sgfdw_report_python_error(0, name);
		PyErr_Clear();
	}
	return value;
}

/* An FDW's optional boolean attribute (provides_ctid, ...): false when it has none. */
bool
sgfdw_optional_flag(PyObject *obj, const char *name)
{
	PyObject   *flag = sgfdw_optional_attr(obj, name);
	bool		truth;

	if (flag == NULL)
		return false;
	PG_TRY();
	{
		truth = sgfdw_truth(flag, name);
	}
	PG_FINALLY();
	{
		Py_DECREF(flag);
	}
	PG_END_TRY();
	return truth;
}
