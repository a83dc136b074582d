/*
 * xact.c
 *		Transaction and subtransaction callbacks of the FDW instances touched in a
 *		transaction.
 *
 * Order, for each instance a scan or write used in the transaction (first use first):
 *	- begin(serializable) at its first use, then sub_begin(level) for each savepoint level
 *	  it is used at (2, 3, ...), lazily, like postgres_fdw's remote savepoints;
 *	- RELEASE / ROLLBACK TO of level L: sub_commit(L) / sub_rollback(L) for the instances
 *	  that had reached L;
 *	- COMMIT: pre_commit() for each (an exception aborts the commit), then commit();
 *	- abort (ROLLBACK, an error, a failed pre_commit): rollback().
 * Callbacks that run after the point of no return (commit, rollback, sub_rollback) can
 * only warn about a Python exception.
 */
#include "sgfdw.h"

#include "access/xact.h"
#include "utils/memutils.h"

typedef struct SgTouched
{
	PyObject   *instance;
	int			depth;			/* the deepest level begun: 1 = the transaction */
} SgTouched;

SgXactEnding sgfdw_xact_ending = SG_XACT_RUNNING;

static SgTouched *touched = NULL;
static int	ntouched = 0;
static int	max_touched = 0;

/* A class that does not subclass ForeignDataWrapper may lack the hooks: nothing to do. */
static void
call_or_raise(PyObject *instance, const char *method, PyObject *args, SgXactEnding ending)
{
	if (PyObject_HasAttrString(instance, method))
	{
		SgXactEnding previous = sgfdw_xact_ending;
		PyObject   *result;

		sgfdw_xact_ending = ending;
		PG_TRY();
		{
			result = sgfdw_call_method(instance, method, args, NULL, method);
		}
		PG_FINALLY();
		{
			sgfdw_xact_ending = previous;
		}
		PG_END_TRY();
		Py_DECREF(result);
	}
	else
		Py_XDECREF(args);
}

static void
call_or_warn(PyObject *instance, const char *method, PyObject *args, SgXactEnding ending)
{
	PyObject   *callable;
	PyObject   *result = NULL;
	SgXactEnding previous = sgfdw_xact_ending;

	if (!PyObject_HasAttrString(instance, method))
	{
		Py_XDECREF(args);
		return;
	}
	callable = PyObject_GetAttrString(instance, method);
	if (callable)
	{
		sgfdw_xact_ending = ending;
		SGFDW_ENTER_PYTHON();
		result = PyObject_CallObject(callable, args);
		SGFDW_LEAVE_PYTHON();
		sgfdw_xact_ending = previous;
		Py_DECREF(callable);
	}

	if (result == NULL)
	{
		char	   *text = sgfdw_exception_text();

		ereport(WARNING,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("%s() of a foreign data wrapper failed: %s", method,
						text ? text : "unknown error")));
	}
	Py_XDECREF(result);
	Py_XDECREF(args);
}

void
sgfdw_xact_touch(PyObject *instance)
{
	int			level = GetCurrentTransactionNestLevel();
	SgTouched  *entry = NULL;

	for (int i = 0; i < ntouched; i++)
		if (touched[i].instance == instance)
			entry = &touched[i];
	if (entry == NULL)
	{
		if (ntouched == max_touched)
		{
			max_touched = Max(8, max_touched * 2);
			touched = touched
				? repalloc(touched, sizeof(SgTouched) * max_touched)
				: MemoryContextAlloc(TopMemoryContext, sizeof(SgTouched) * max_touched);
		}
		entry = &touched[ntouched++];
		entry->instance = instance;
		entry->depth = 0;
		Py_INCREF(instance);
	}
	if (entry->depth == 0)
	{
		entry->depth = 1;
		call_or_raise(instance, "begin",
					  Py_BuildValue("(O)", IsolationIsSerializable() ? Py_True : Py_False),
					  SG_XACT_RUNNING);
	}
	while (entry->depth < level)
	{
		entry->depth++;
		call_or_raise(instance, "sub_begin", Py_BuildValue("(i)", entry->depth),
					  SG_XACT_RUNNING);
	}
}

static void
forget_all(void)
{
	for (int i = 0; i < ntouched; i++)
		Py_DECREF(touched[i].instance);
	ntouched = 0;
}

static void
xact_callback(XactEvent event, void *arg)
{
	if (ntouched == 0)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			for (int i = 0; i < ntouched; i++)
				call_or_raise(touched[i].instance, "pre_commit", NULL, SG_XACT_RUNNING);
			break;
		case XACT_EVENT_COMMIT:
			for (int i = 0; i < ntouched; i++)
				call_or_warn(touched[i].instance, "commit", NULL, SG_XACT_COMMITTING);
			forget_all();
			break;
		case XACT_EVENT_ABORT:
			sgfdw_python_depth = 0;
			for (int i = 0; i < ntouched; i++)
				call_or_warn(touched[i].instance, "rollback", NULL, SG_XACT_ABORTING);
			forget_all();
			break;
		case XACT_EVENT_PRE_PREPARE:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot PREPARE a transaction that has used sgfdw foreign tables")));
			break;
		default:
			break;
	}
}

static void
subxact_callback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid,
				 void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (event != SUBXACT_EVENT_PRE_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB)
		return;
	for (int i = 0; i < ntouched; i++)
	{
		if (touched[i].depth < level)
			continue;
		if (event == SUBXACT_EVENT_PRE_COMMIT_SUB)
			call_or_raise(touched[i].instance, "sub_commit", Py_BuildValue("(i)", level),
						  SG_XACT_COMMITTING);
		else
			call_or_warn(touched[i].instance, "sub_rollback", Py_BuildValue("(i)", level),
						 SG_XACT_ABORTING);
		touched[i].depth = level - 1;
	}
}

void
sgfdw_init_xact_callbacks(void)
{
	RegisterXactCallback(xact_callback, NULL);
	RegisterSubXactCallback(subxact_callback, NULL);
}
