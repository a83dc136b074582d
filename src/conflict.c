/*
 * conflict.c
 *		INSERT ... ON CONFLICT on a Python foreign table.
 *
 * A foreign table has no local unique index, so the only clause that reaches an FDW is
 * ON CONFLICT DO NOTHING without a conflict target (a target, and so DO UPDATE, fails
 * in core's arbiter inference first). What conflicts is for the remote side to decide:
 * an FDW that lists the action in its on_conflict_actions gets it as the keyword
 * on_conflict of insert() and bulk_insert(); for any other the clause would be
 * silently dropped, so the statement is refused.
 */
#include "sgfdw.h"

#include "utils/lsyscache.h"

static const char *
action_name(OnConflictAction action)
{
	switch (action)
	{
		case ONCONFLICT_NOTHING:
			return "nothing";
		case ONCONFLICT_UPDATE:
			return "update";
		default:
			return NULL;
	}
}

/* Does the instance's on_conflict_actions (a collection of names) hold this one? */
static bool
declares_action(PyObject *instance, const char *name)
{
	PyObject   *actions = sgfdw_optional_attr(instance, "on_conflict_actions");
	PyObject   *key;
	int			found;

	if (actions == NULL)
		return false;
	key = PyUnicode_FromString(name);
	found = key ? PySequence_Contains(actions, key) : -1;
	Py_XDECREF(key);
	Py_DECREF(actions);
	if (found < 0)
		sgfdw_report_python_error(ERRCODE_FDW_INVALID_DATA_TYPE, "on_conflict_actions");
	return found;
}

PyObject *
sgfdw_on_conflict(SgTable *table, OnConflictAction action)
{
	const char *name = action_name(action);

	if (name == NULL)
		return NULL;
	if (action != ONCONFLICT_NOTHING || !declares_action(table->instance, name))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("INSERT ... ON CONFLICT DO %s is not supported on foreign table \"%s\"",
						action == ONCONFLICT_NOTHING ? "NOTHING" : "UPDATE",
						get_rel_name(table->relid)),
				 errdetail(action == ONCONFLICT_NOTHING
						   ? "Its FDW class does not list \"nothing\" in on_conflict_actions."
						   : "A foreign table has no unique index to resolve a conflict with.")));
	return sgfdw_str(name);
}
