/*
 * pytext.c
 *		Python str <-> C text.
 */
#include "sgfdw.h"

#include "mb/pg_wchar.h"

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

/* A C string as a str, None for NULL; bytes UTF-8 cannot decode become U+FFFD. */
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
