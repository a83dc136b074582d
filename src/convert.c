/*
 * convert.c
 *		Datum <-> Python values, per type, without a text round-trip for the common types.
 *
 * A converter is made once per column (or qual value) and reused for every value, so the
 * per-value work is a switch on a precomputed kind. Types without a native mapping, and
 * Python values of an unexpected type, go through the type's text I/O as Multicorn does,
 * so existing FDWs that yield strings keep working.
 */
#include "sgfdw.h"

#include <float.h>
#include <math.h>

/*
 * Python's datetime C API. Its header and PostgreSQL's utils/datetime.h share the
 * include guard DATETIME_H, so Python's comes first and the guard is dropped after it.
 */
#include <datetime.h>
#undef DATETIME_H

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

typedef enum SgKind
{
	SG_INT2, SG_INT4, SG_INT8, SG_FLOAT4, SG_FLOAT8, SG_NUMERIC, SG_BOOL,
	SG_TEXT,					/* text-like varlena without a length limit */
	SG_TEXT_CHECKED,			/* varchar(n), bpchar(n), name: through the input function */
	SG_BYTEA, SG_DATE, SG_TIME, SG_TIMESTAMP, SG_TIMESTAMPTZ, SG_INTERVAL, SG_UUID,
	SG_JSON, SG_ARRAY, SG_OTHER
} SgKind;

struct SgConverter
{
	Oid			typoid;
	int32		typmod;
	SgKind		kind;
	FmgrInfo	input;
	FmgrInfo	output;
	Oid			ioparam;
	Oid			domain;			/* the domain to check after conversion, or InvalidOid */
	void	   *domain_cache;
	MemoryContext context;		/* lives as long as the converter, for caches */
	/* arrays */
	Oid			elemtype;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	SgConverter *element;
};

static PyObject *decimal_type;
static PyObject *uuid_type;
static PyObject *json_loads;
static PyObject *json_dumps;
static PyObject *mapping_text;
static PyObject *utc;
static bool server_is_utf8;

static PyObject *
import_attribute(const char *module_name, const char *name)
{
	PyObject   *module = PyImport_ImportModule(module_name);
	PyObject   *attribute = module ? PyObject_GetAttrString(module, name) : NULL;

	Py_XDECREF(module);
	SGFDW_CHECK(attribute, module_name);
	return attribute;
}

void
sgconv_init_python(void)
{
	PyDateTime_IMPORT;
	if (PyDateTimeAPI == NULL)
		sgfdw_report_python_error(0, "importing datetime");
	utc = PyDateTime_TimeZone_UTC;
	Py_INCREF(utc);
	decimal_type = import_attribute("decimal", "Decimal");
	uuid_type = import_attribute("uuid", "UUID");
	server_is_utf8 = GetDatabaseEncoding() == PG_UTF8;
}

static SgKind
kind_of(Oid basetype, int32 typmod)
{
	switch (basetype)
	{
		case INT2OID:
			return SG_INT2;
		case INT4OID:
			return SG_INT4;
		case INT8OID:
			return SG_INT8;
		case FLOAT4OID:
			return SG_FLOAT4;
		case FLOAT8OID:
			return SG_FLOAT8;
		case NUMERICOID:
			return SG_NUMERIC;
		case BOOLOID:
			return SG_BOOL;
		case TEXTOID:
			return SG_TEXT;
		case VARCHAROID:
		case BPCHAROID:
			return typmod >= 0 ? SG_TEXT_CHECKED : SG_TEXT;
		case NAMEOID:
			return SG_TEXT_CHECKED;
		case BYTEAOID:
			return SG_BYTEA;
		case DATEOID:
			return SG_DATE;
		case TIMEOID:
			return SG_TIME;
		case TIMESTAMPOID:
			return SG_TIMESTAMP;
		case TIMESTAMPTZOID:
			return SG_TIMESTAMPTZ;
		case INTERVALOID:
			return SG_INTERVAL;
		case UUIDOID:
			return SG_UUID;
		case JSONOID:
		case JSONBOID:
			return SG_JSON;
		default:
			return OidIsValid(get_element_type(basetype)) ? SG_ARRAY : SG_OTHER;
	}
}

SgConverter *
sgconv_create(Oid typoid, int32 typmod)
{
	SgConverter *conv = palloc0(sizeof(SgConverter));
	int32		basetypmod = typmod;
	Oid			basetype = getBaseTypeAndTypmod(typoid, &basetypmod);
	Oid			infunc;
	Oid			outfunc;
	bool		isvarlena;

	conv->typoid = typoid;
	conv->typmod = typmod;
	conv->context = CurrentMemoryContext;
	conv->kind = kind_of(basetype, basetypmod);
	/* A domain is converted as its base type, then its constraints are checked. */
	if (typoid != basetype && conv->kind != SG_OTHER)
		conv->domain = typoid;
	getTypeInputInfo(typoid, &infunc, &conv->ioparam);
	fmgr_info(infunc, &conv->input);
	getTypeOutputInfo(typoid, &outfunc, &isvarlena);
	fmgr_info(outfunc, &conv->output);
	if (conv->kind == SG_ARRAY)
	{
		conv->elemtype = get_element_type(basetype);
		get_typlenbyvalalign(conv->elemtype, &conv->elmlen, &conv->elmbyval, &conv->elmalign);
		conv->element = sgconv_create(conv->elemtype, basetypmod);
	}
	return conv;
}

/* ------------------------------------------------------------------------
 * Datum -> Python
 * ------------------------------------------------------------------------ */

static PyObject *
checked(PyObject *obj)
{
	SGFDW_CHECK(obj, "converting a value to Python");
	return obj;
}

static PyObject *
server_string_to_python(const char *data, int len)
{
	if (!server_is_utf8)
	{
		char	   *utf8 = pg_server_to_any(data, len, PG_UTF8);

		if (utf8 != data)
			return checked(PyUnicode_DecodeUTF8(utf8, strlen(utf8), NULL));
	}
	return checked(PyUnicode_DecodeUTF8(data, len, NULL));
}

static PyObject *
output_as_string(SgConverter *conv, Datum value)
{
	char	   *text = OutputFunctionCall(&conv->output, value);
	PyObject   *result = server_string_to_python(text, strlen(text));

	pfree(text);
	return result;
}

static PyObject *
array_to_python(SgConverter *conv, ArrayType *array)
{
	int			ndim = ARR_NDIM(array);
	int		   *dims = ARR_DIMS(array);
	Datum	   *values;
	bool	   *nulls;
	int			count;
	int			position = 0;
	PyObject   *stack[MAXDIM];
	int			filled[MAXDIM];
	PyObject   *result;

	if (ndim == 0)
		return checked(PyList_New(0));
	deconstruct_array(array, conv->elemtype, conv->elmlen, conv->elmbyval, conv->elmalign,
					  &values, &nulls, &count);

	/* Build the nested lists depth-first without recursion. */
	for (int d = 0; d < ndim; d++)
	{
		stack[d] = checked(PyList_New(dims[d]));
		filled[d] = 0;
	}
	result = stack[0];
	for (;;)
	{
		int			d = ndim - 1;

		while (filled[d] < dims[d])
		{
			PyObject   *item = sgconv_to_python(conv->element, values[position], nulls[position]);

			position++;
			PyList_SET_ITEM(stack[d], filled[d]++, item);
		}
		/* Close finished levels, attaching each to its parent. */
		while (d > 0 && filled[d] == dims[d])
		{
			PyList_SET_ITEM(stack[d - 1], filled[d - 1]++, stack[d]);
			d--;
			if (filled[d] < dims[d])
			{
				for (int e = d + 1; e < ndim; e++)
				{
					stack[e] = checked(PyList_New(dims[e]));
					filled[e] = 0;
				}
				break;
			}
		}
		if (d == 0 && filled[0] == dims[0])
			break;
	}
	pfree(values);
	pfree(nulls);
	return result;
}

static PyObject *
date_to_python(SgConverter *conv, Datum value)
{
	DateADT		date = DatumGetDateADT(value);
	int			year,
				month,
				day;

	if (DATE_NOT_FINITE(date))
		return output_as_string(conv, value);
	j2date(date + POSTGRES_EPOCH_JDATE, &year, &month, &day);
	if (year < 1 || year > 9999)
		return output_as_string(conv, value);	/* outside datetime.date */
	return checked(PyDate_FromDate(year, month, day));
}

static PyObject *
timestamp_to_python(SgConverter *conv, Datum value, bool with_zone)
{
	Timestamp	ts = DatumGetTimestamp(value);
	struct pg_tm tm;
	fsec_t		fsec;

	/* Without a zone argument the fields come out in UTC for timestamptz too. */
	if (TIMESTAMP_NOT_FINITE(ts) ||
		timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0 ||
		tm.tm_year < 1 || tm.tm_year > 9999)
		return output_as_string(conv, value);
	return checked(PyDateTimeAPI->DateTime_FromDateAndTime(tm.tm_year, tm.tm_mon, tm.tm_mday,
														   tm.tm_hour, tm.tm_min, tm.tm_sec,
														   fsec, with_zone ? utc : Py_None,
														   PyDateTimeAPI->DateTimeType));
}

static PyObject *
interval_to_python(SgConverter *conv, Datum value)
{
	Interval   *interval = DatumGetIntervalP(value);
	int64		days;
	int64		rest;

	/* timedelta has no months; such intervals keep their exact text. */
	if (interval->month != 0)
		return output_as_string(conv, value);
	days = interval->day + interval->time / USECS_PER_DAY;
	rest = interval->time % USECS_PER_DAY;
	if (days > 999999999 || days < -999999999)
		return output_as_string(conv, value);
	return checked(PyDelta_FromDSU((int) days, (int) (rest / USECS_PER_SEC),
								   (int) (rest % USECS_PER_SEC)));
}

static PyObject *
uuid_to_python(Datum value)
{
	pg_uuid_t  *uuid = DatumGetUUIDP(value);
	PyObject   *bytes = checked(PyBytes_FromStringAndSize((char *) uuid->data, UUID_LEN));
	PyObject   *kwargs = Py_BuildValue("{s:N}", "bytes", bytes);
	PyObject   *args = PyTuple_New(0);
	PyObject   *result = PyObject_Call(uuid_type, args, kwargs);

	Py_DECREF(args);
	Py_DECREF(kwargs);
	return checked(result);
}

PyObject *
sgconv_to_python(SgConverter *conv, Datum value, bool isnull)
{
	if (isnull)
		Py_RETURN_NONE;
	switch (conv->kind)
	{
		case SG_INT2:
			return checked(PyLong_FromLong(DatumGetInt16(value)));
		case SG_INT4:
			return checked(PyLong_FromLong(DatumGetInt32(value)));
		case SG_INT8:
			return checked(PyLong_FromLongLong(DatumGetInt64(value)));
		case SG_FLOAT4:
			return checked(PyFloat_FromDouble(DatumGetFloat4(value)));
		case SG_FLOAT8:
			return checked(PyFloat_FromDouble(DatumGetFloat8(value)));
		case SG_BOOL:
			return PyBool_FromLong(DatumGetBool(value));
		case SG_NUMERIC:
			{
				char	   *text = OutputFunctionCall(&conv->output, value);
				PyObject   *result = PyObject_CallFunction(decimal_type, "s", text);

				pfree(text);
				return checked(result);
			}
		case SG_TEXT:
			{
				struct varlena *text = PG_DETOAST_DATUM_PACKED(value);

				return server_string_to_python(VARDATA_ANY(text), VARSIZE_ANY_EXHDR(text));
			}
		case SG_TEXT_CHECKED:
			if (conv->typoid == NAMEOID)
			{
				const char *name = NameStr(*DatumGetName(value));

				return server_string_to_python(name, strlen(name));
			}
			else
			{
				struct varlena *text = PG_DETOAST_DATUM_PACKED(value);

				return server_string_to_python(VARDATA_ANY(text), VARSIZE_ANY_EXHDR(text));
			}
		case SG_BYTEA:
			{
				struct varlena *bytes = PG_DETOAST_DATUM_PACKED(value);

				return checked(PyBytes_FromStringAndSize(VARDATA_ANY(bytes),
														 VARSIZE_ANY_EXHDR(bytes)));
			}
		case SG_DATE:
			return date_to_python(conv, value);
		case SG_TIME:
			{
				TimeADT		time = DatumGetTimeADT(value);

				if (time >= USECS_PER_DAY)	/* 24:00:00 */
					return output_as_string(conv, value);
				return checked(PyTime_FromTime((int) (time / USECS_PER_HOUR),
											   (int) (time / USECS_PER_MINUTE % 60),
											   (int) (time / USECS_PER_SEC % 60),
											   (int) (time % USECS_PER_SEC)));
			}
		case SG_TIMESTAMP:
			return timestamp_to_python(conv, value, false);
		case SG_TIMESTAMPTZ:
			return timestamp_to_python(conv, value, true);
		case SG_INTERVAL:
			return interval_to_python(conv, value);
		case SG_UUID:
			return uuid_to_python(value);
		case SG_JSON:
			{
				PyObject   *text = output_as_string(conv, value);
				PyObject   *result;

				if (json_loads == NULL)
					json_loads = sgfdw_bridge_attr("json_loads");
				SGFDW_ENTER_PYTHON();
				result = PyObject_CallOneArg(json_loads, text);
				SGFDW_LEAVE_PYTHON();
				Py_DECREF(text);
				return checked(result);
			}
		case SG_ARRAY:
			return array_to_python(conv, DatumGetArrayTypeP(value));
		case SG_OTHER:
			break;
	}
	return output_as_string(conv, value);
}

PyObject *
sgconv_datum_to_python(Oid typoid, int32 typmod, Datum value, bool isnull)
{
	SgConverter *conv;
	PyObject   *result;

	if (isnull)
		Py_RETURN_NONE;
	conv = sgconv_create(typoid, typmod);
	result = sgconv_to_python(conv, value, false);
	pfree(conv);
	return result;
}

/* ------------------------------------------------------------------------
 * Python -> Datum
 * ------------------------------------------------------------------------ */

static void pg_attribute_noreturn()
report_bad_value(SgConverter *conv, PyObject *value, int sqlstate, const char *why)
{
	const char *pytype = Py_TYPE(value)->tp_name;

	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("cannot convert Python %s to type %s%s%s", pytype,
					format_type_with_typemod(conv->typoid, conv->typmod),
					why ? ": " : "", why ? why : "")));
}

/*
 * PostgreSQL values (and palloc) stop short of 1 GB: a larger value is a limit the data
 * hit (54000), not an internal error. Checked before a value's bytes are read.
 */
void
sgconv_check_value_size(Oid typoid, int32 typmod, int64 size)
{
	if (size > MaxAllocSize - VARHDRSZ - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("value too large for type %s: %lld bytes",
						format_type_with_typemod(typoid, typmod), (long long) size),
				 errdetail("A PostgreSQL value is limited to 1 GB.")));
}

/*
 * Text for PostgreSQL: at most 1 GB, and without NUL, which PostgreSQL strings cannot
 * hold (cutting the value at one would be silent data loss).
 */
static void
check_text(SgConverter *conv, PyObject *value, const char *data, Py_ssize_t size)
{
	sgconv_check_value_size(conv->typoid, conv->typmod, size);
	if (memchr(data, '\0', size) != NULL)
		report_bad_value(conv, value, ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
						 "strings cannot contain NUL (0x00) characters");
}

/*
 * The UTF-8 bytes of a str, of UTF-8 bytes, or of str(value) for other objects; *owner
 * (to release) keeps them alive.
 */
static const char *
utf8_of(SgConverter *conv, PyObject *value, Py_ssize_t *size, PyObject **owner)
{
	const char *data;
	PyObject   *text;

	*owner = NULL;
	if (PyUnicode_Check(value))
		data = sgfdw_utf8(value, size, "a str value");
	else if (PyBytes_Check(value))
	{
		data = PyBytes_AS_STRING(value);
		*size = PyBytes_GET_SIZE(value);
		if (!pg_verify_mbstr(PG_UTF8, data, *size, true))
			report_bad_value(conv, value, ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
							 "bytes are not valid UTF-8");
	}
	else
	{
		SGFDW_ENTER_PYTHON();
		text = PyObject_Str(value);
		SGFDW_LEAVE_PYTHON();
		if (text == NULL)
			sgfdw_report_python_error(ERRCODE_DATA_EXCEPTION, "converting a value to text");
		/* Not left behind by a refused value: it may be as large as a value can be. */
		PG_TRY();
		{
			data = sgfdw_utf8(text, size, "str() of a value");
			check_text(conv, value, data, *size);
		}
		PG_CATCH();
		{
			Py_DECREF(text);
			PG_RE_THROW();
		}
		PG_END_TRY();
		*owner = text;
		return data;
	}
	check_text(conv, value, data, *size);
	return data;
}

/* A palloc'd NUL-terminated copy in the server encoding. */
static char *
python_to_server_string(SgConverter *conv, PyObject *value, Py_ssize_t *length)
{
	PyObject   *owner;
	Py_ssize_t	size;
	const char *data = utf8_of(conv, value, &size, &owner);
	char	   *converted = server_is_utf8 ? (char *) data : pg_any_to_server(data, size, PG_UTF8);

	if (converted == data)
		converted = pnstrdup(data, size);
	else
		size = strlen(converted);
	Py_XDECREF(owner);
	*length = size;
	return converted;
}

/* text/varchar/bpchar without a length limit: one copy, straight into the varlena. */
static Datum
text_value(SgConverter *conv, PyObject *value)
{
	PyObject   *owner;
	Py_ssize_t	size;
	const char *data;
	text	   *result;

	if (!server_is_utf8)
	{
		char	   *string = python_to_server_string(conv, value, &size);

		result = cstring_to_text_with_len(string, size);
		pfree(string);
		return PointerGetDatum(result);
	}
	data = utf8_of(conv, value, &size, &owner);
	result = palloc(size + VARHDRSZ);
	SET_VARSIZE(result, size + VARHDRSZ);
	memcpy(VARDATA(result), data, size);
	Py_XDECREF(owner);
	return PointerGetDatum(result);
}

static Datum
datum_from_text(SgConverter *conv, PyObject *value)
{
	Py_ssize_t	length;
	char	   *text = python_to_server_string(conv, value, &length);
	Datum		result = sgconv_from_cstring(conv, text);

	pfree(text);
	return result;
}

static int64
integer_value(SgConverter *conv, PyObject *value, int64 min, int64 max)
{
	int			overflow;
	long long	result = PyLong_AsLongLongAndOverflow(value, &overflow);

	if (result == -1 && PyErr_Occurred())
		sgfdw_report_python_error(ERRCODE_DATA_EXCEPTION, "converting a Python int");
	if (overflow || result < min || result > max)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range for type %s",
						format_type_be(conv->typoid))));
	return result;
}

static Datum
float_value(SgConverter *conv, PyObject *value)
{
	double		result;

	if (PyFloat_Check(value))
		result = PyFloat_AS_DOUBLE(value);
	else
	{
		result = PyFloat_AsDouble(value);
		if (result == -1.0 && PyErr_Occurred())
		{
			PyErr_Clear();
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value out of range for type %s", format_type_be(conv->typoid))));
		}
	}
	if (conv->kind == SG_FLOAT8)
		return Float8GetDatum(result);
	return Float4GetDatum(sgconv_float4(result));
}

/* As PostgreSQL's float8 -> float4 cast: only a lost infinity or zero is an error. */
float4
sgconv_float4(double value)
{
	if ((isinf((float4) value) && !isinf(value)) || ((float4) value == 0 && value != 0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range for type real")));
	return (float4) value;
}

static bool
is_numeric_object(PyObject *value)
{
	return !PyUnicode_Check(value) && !PyBytes_Check(value) &&
		Py_TYPE(value)->tp_as_number && Py_TYPE(value)->tp_as_number->nb_float;
}

static int64
wall_clock_usecs(PyObject *value)
{
	return ((int64) PyDateTime_DATE_GET_HOUR(value) * 3600 +
			PyDateTime_DATE_GET_MINUTE(value) * 60 +
			PyDateTime_DATE_GET_SECOND(value)) * USECS_PER_SEC +
		PyDateTime_DATE_GET_MICROSECOND(value);
}

static int64
days_since_epoch(PyObject *value)
{
	return date2j(PyDateTime_GET_YEAR(value), PyDateTime_GET_MONTH(value),
				  PyDateTime_GET_DAY(value)) - POSTGRES_EPOCH_JDATE;
}

/*
 * A datetime's UTC offset in microseconds; false if it has none (naive, or a tzinfo
 * whose utcoffset() is None, which Python also calls naive).
 */
static bool
utc_offset(PyObject *value, int64 *usecs)
{
	PyObject   *offset;
	bool		known;

	if (PyDateTime_DATE_GET_TZINFO(value) == Py_None)
		return false;
	SGFDW_ENTER_PYTHON();
	offset = PyObject_CallMethod(value, "utcoffset", NULL);
	SGFDW_LEAVE_PYTHON();
	if (offset == NULL)
		sgfdw_report_python_error(ERRCODE_INVALID_DATETIME_FORMAT, "utcoffset()");
	known = PyDelta_Check(offset);
	if (known)
		*usecs = ((int64) PyDateTime_DELTA_GET_DAYS(offset) * SECS_PER_DAY +
				  PyDateTime_DELTA_GET_SECONDS(offset)) * USECS_PER_SEC +
			PyDateTime_DELTA_GET_MICROSECONDS(offset);
	Py_DECREF(offset);
	return known;
}

static Datum
timestamp_value(SgConverter *conv, PyObject *value)
{
	Timestamp	result = days_since_epoch(value) * USECS_PER_DAY;

	if (PyDateTime_Check(value))
	{
		int64		offset;

		result += wall_clock_usecs(value);
		if (conv->kind == SG_TIMESTAMPTZ)
		{
			/* A naive value means the session's time zone, as in text input. */
			if (!utc_offset(value, &offset))
				return datum_from_text(conv, value);
			result -= offset;
		}
	}
	if (!IS_VALID_TIMESTAMP(result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return TimestampGetDatum(result);
}

static Datum
interval_value(PyObject *value)
{
	Interval   *result = palloc(sizeof(Interval));

	/*
	 * timedelta keeps 0 <= seconds < 1 day; written with the sign of the day part, as
	 * PostgreSQL writes '-1 days -01:00:00'. Computed per field: a timedelta's full
	 * range does not fit in int64 microseconds.
	 */
	result->month = 0;
	result->day = PyDateTime_DELTA_GET_DAYS(value);
	result->time = (int64) PyDateTime_DELTA_GET_SECONDS(value) * USECS_PER_SEC +
		PyDateTime_DELTA_GET_MICROSECONDS(value);
	if (result->day < 0 && result->time > 0)
	{
		result->day++;
		result->time -= USECS_PER_DAY;
	}
	return IntervalPGetDatum(result);
}

static Datum
uuid_value(SgConverter *conv, PyObject *value)
{
	PyObject   *bytes = PyObject_GetAttrString(value, "bytes");
	pg_uuid_t  *result;

	if (bytes == NULL || !PyBytes_Check(bytes) || PyBytes_GET_SIZE(bytes) != UUID_LEN)
	{
		Py_XDECREF(bytes);
		PyErr_Clear();
		return datum_from_text(conv, value);
	}
	result = palloc(sizeof(pg_uuid_t));
	memcpy(result->data, PyBytes_AS_STRING(bytes), UUID_LEN);
	Py_DECREF(bytes);
	return UUIDPGetDatum(result);
}

/* datum_from_text of a str the caller made, which this releases. */
static Datum
datum_from_owned_text(SgConverter *conv, PyObject *text)
{
	Datum		result;

	PG_TRY();
	{
		result = datum_from_text(conv, text);
	}
	PG_FINALLY();
	{
		Py_DECREF(text);
	}
	PG_END_TRY();
	return result;
}

static Datum
json_value(SgConverter *conv, PyObject *value)
{
	PyObject   *text;

	/* A str is already JSON text: that is what Multicorn FDWs yield. */
	if (PyUnicode_Check(value))
		return datum_from_text(conv, value);
	if (json_dumps == NULL)
		json_dumps = sgfdw_bridge_attr("json_dumps");
	SGFDW_ENTER_PYTHON();
	text = PyObject_CallOneArg(json_dumps, value);
	SGFDW_LEAVE_PYTHON();
	if (text == NULL)
		sgfdw_report_python_error(ERRCODE_DATATYPE_MISMATCH, "serializing a JSON value");
	return datum_from_owned_text(conv, text);
}

/*
 * A mapping for a type read from text (hstore, or any type accepting that text) is
 * written as hstore text, as Multicorn does; false for other values.
 */
static bool
mapping_value(SgConverter *conv, PyObject *value, Datum *result)
{
	PyObject   *text;

	if (mapping_text == NULL)
		mapping_text = sgfdw_bridge_attr("mapping_text");
	SGFDW_ENTER_PYTHON();
	text = PyObject_CallOneArg(mapping_text, value);
	SGFDW_LEAVE_PYTHON();
	if (text == NULL)
		sgfdw_report_python_error(ERRCODE_DATATYPE_MISMATCH, "writing a mapping as hstore text");
	if (text == Py_None)
	{
		Py_DECREF(text);
		return false;
	}
	*result = datum_from_owned_text(conv, text);
	return true;
}

static Datum
bytea_value(SgConverter *conv, PyObject *value)
{
	Py_buffer	view;
	bytea	   *result;

	if (PyUnicode_Check(value) || !PyObject_CheckBuffer(value))
		return datum_from_text(conv, value);
	if (PyObject_GetBuffer(value, &view, PyBUF_CONTIG_RO) < 0)
		sgfdw_report_python_error(ERRCODE_DATA_EXCEPTION, "reading a bytes-like value");
	if (view.len > MaxAllocSize - VARHDRSZ - 1)
	{
		Py_ssize_t	size = view.len;

		PyBuffer_Release(&view);
		sgconv_check_value_size(conv->typoid, conv->typmod, size);
	}
	result = palloc(view.len + VARHDRSZ);
	SET_VARSIZE(result, view.len + VARHDRSZ);
	memcpy(VARDATA(result), view.buf, view.len);
	PyBuffer_Release(&view);
	return PointerGetDatum(result);
}

static void pg_attribute_noreturn()
report_ragged(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
			 errmsg("multidimensional arrays must have sub-arrays with matching dimensions")));
}

static bool
is_sublist(SgConverter *conv, PyObject *value)
{
	/* Elements of json[] may be lists themselves: only the outer list is the array. */
	return (PyList_Check(value) || PyTuple_Check(value)) && conv->element->kind != SG_JSON;
}

/*
 * Shape of a nested list: ndim and the length at each depth, from the first elements,
 * within PostgreSQL's array limits (54000).
 */
static int
array_shape(SgConverter *conv, PyObject *value, int *dims)
{
	int			ndim = 0;

	for (;;)
	{
		Py_ssize_t	size = PySequence_Fast_GET_SIZE(value);

		if (ndim == MAXDIM)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("number of array dimensions exceeds the maximum allowed (%d)",
							MAXDIM)));
		if (size > (Py_ssize_t) MaxArraySize)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("array size exceeds the maximum allowed (%d)",
							(int) MaxArraySize)));
		dims[ndim++] = (int) size;
		if (size == 0)
			break;
		value = PySequence_Fast_GET_ITEM(value, 0);
		if (!is_sublist(conv, value))
			break;
	}
	return ndim;
}

/*
 * The elements of a nested list in order, each with its own reference. Converting an
 * element can run Python (__str__, ...) that changes the lists or drops their items,
 * so every element is taken, and the whole shape checked, before any is converted;
 * nothing here runs Python. The references go with the memory context, also on error.
 */
typedef struct SgArrayItems
{
	PyObject  **items;
	int			count;
	MemoryContextCallback release;
} SgArrayItems;

static void
release_array_items(void *arg)
{
	SgArrayItems *items = arg;

	for (int i = 0; i < items->count; i++)
		Py_DECREF(items->items[i]);
	items->count = 0;
}

static void
collect_items(SgConverter *conv, PyObject *value, int depth, int ndim, int *dims,
			  SgArrayItems *items)
{
	Py_ssize_t	size = PySequence_Fast_GET_SIZE(value);

	if (size != dims[depth])
		report_ragged();
	for (Py_ssize_t i = 0; i < size; i++)
	{
		PyObject   *item = PySequence_Fast_GET_ITEM(value, i);

		if (depth + 1 < ndim)
		{
			if (!is_sublist(conv, item))
				report_ragged();
			collect_items(conv, item, depth + 1, ndim, dims, items);
		}
		else
		{
			if (is_sublist(conv, item))
				report_ragged();
			Py_INCREF(item);
			items->items[items->count++] = item;
		}
	}
}

static Datum
array_value(SgConverter *conv, PyObject *value)
{
	int			dims[MAXDIM];
	int			lbs[MAXDIM];
	int			ndim = array_shape(conv, value, dims);
	int			count;
	SgArrayItems *items;
	Datum	   *values;
	bool	   *nulls;
	Datum		result;

	for (int d = 0; d < ndim; d++)
		lbs[d] = 1;
	count = ArrayGetNItems(ndim, dims);
	ArrayCheckBounds(ndim, dims, lbs);
	items = palloc0(sizeof(SgArrayItems));
	items->items = palloc_extended(sizeof(PyObject *) * Max(count, 1), MCXT_ALLOC_HUGE);
	items->release.func = release_array_items;
	items->release.arg = items;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &items->release);
	/* Also an empty array: [[], [1, 2]] is ragged, not empty. */
	collect_items(conv, value, 0, ndim, dims, items);
	if (count == 0)
		return PointerGetDatum(construct_empty_array(conv->elemtype));
	values = palloc_extended(sizeof(Datum) * count, MCXT_ALLOC_HUGE);
	nulls = palloc_extended(sizeof(bool) * count, MCXT_ALLOC_HUGE);
	for (int i = 0; i < count; i++)
		values[i] = sgconv_to_datum(conv->element, items->items[i], &nulls[i]);
	result = PointerGetDatum(construct_md_array(values, nulls, ndim, dims, lbs, conv->elemtype,
												conv->elmlen, conv->elmbyval, conv->elmalign));
	release_array_items(items);
	pfree(values);
	pfree(nulls);
	return result;
}

static Datum convert_to_datum(SgConverter *conv, PyObject *value, bool *isnull);

Datum
sgconv_to_datum(SgConverter *conv, PyObject *value, bool *isnull)
{
	Datum		result = convert_to_datum(conv, value, isnull);

	return sgconv_check_domain(conv, result, *isnull);
}

/* A value made as the base type, checked against the constraints of a domain. */
Datum
sgconv_check_domain(SgConverter *conv, Datum value, bool isnull)
{
	if (OidIsValid(conv->domain))
		domain_check(value, isnull, conv->domain, &conv->domain_cache, conv->context);
	return value;
}

/* The converter's type (a domain, not its base type). */
Oid
sgconv_type(SgConverter *conv, int32 *typmod)
{
	*typmod = conv->typmod;
	return conv->typoid;
}

/* Text in the server encoding, read by the type's input function (domains checked). */
Datum
sgconv_from_cstring(SgConverter *conv, char *text)
{
	return InputFunctionCall(&conv->input, text, conv->ioparam, conv->typmod);
}

static Datum
convert_to_datum(SgConverter *conv, PyObject *value, bool *isnull)
{
	*isnull = (value == Py_None);
	if (*isnull)
		return (Datum) 0;
	switch (conv->kind)
	{
		case SG_INT2:
			if (PyLong_Check(value))
				return Int16GetDatum(integer_value(conv, value, PG_INT16_MIN, PG_INT16_MAX));
			break;
		case SG_INT4:
			if (PyLong_Check(value))
				return Int32GetDatum(integer_value(conv, value, PG_INT32_MIN, PG_INT32_MAX));
			break;
		case SG_INT8:
			if (PyLong_Check(value))
				return Int64GetDatum(integer_value(conv, value, PG_INT64_MIN, PG_INT64_MAX));
			break;
		case SG_FLOAT4:
		case SG_FLOAT8:
			if (PyFloat_Check(value) || PyLong_Check(value) || is_numeric_object(value))
				return float_value(conv, value);
			break;
		case SG_BOOL:
			if (PyBool_Check(value))
				return BoolGetDatum(value == Py_True);
			if (PyLong_Check(value))
				return BoolGetDatum(sgfdw_truth(value, "converting a Python int to boolean"));
			break;
		case SG_TEXT:
			return text_value(conv, value);
		case SG_BYTEA:
			return bytea_value(conv, value);
		case SG_DATE:
			if (PyDate_Check(value))
			{
				int64		days = days_since_epoch(value);

				if (!IS_VALID_DATE(days))
					ereport(ERROR,
							(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
							 errmsg("date out of range")));
				return DateADTGetDatum((DateADT) days);
			}
			break;
		case SG_TIME:
			if (PyTime_Check(value))
				return TimeADTGetDatum(((int64) PyDateTime_TIME_GET_HOUR(value) * 3600 +
										PyDateTime_TIME_GET_MINUTE(value) * 60 +
										PyDateTime_TIME_GET_SECOND(value)) * USECS_PER_SEC +
									   PyDateTime_TIME_GET_MICROSECOND(value));
			if (PyDateTime_Check(value))
				return TimeADTGetDatum(wall_clock_usecs(value));
			break;
		case SG_TIMESTAMP:
			if (PyDate_Check(value))
				return timestamp_value(conv, value);
			break;
		case SG_TIMESTAMPTZ:
			if (PyDateTime_Check(value))
				return timestamp_value(conv, value);
			break;
		case SG_INTERVAL:
			if (PyDelta_Check(value))
				return interval_value(value);
			break;
		case SG_UUID:
			if (PyObject_TypeCheck(value, (PyTypeObject *) uuid_type))
				return uuid_value(conv, value);
			break;
		case SG_JSON:
			return json_value(conv, value);
		case SG_ARRAY:
			if (PyList_Check(value) || PyTuple_Check(value))
				return array_value(conv, value);
			break;
		case SG_OTHER:
			if (!PyUnicode_Check(value))
			{
				Datum		result;

				if (mapping_value(conv, value, &result))
					return result;
			}
			break;
		case SG_NUMERIC:
		case SG_TEXT_CHECKED:
			break;
	}
	/* Text-like types take str() of anything, as Multicorn; other types no containers. */
	if (conv->kind != SG_TEXT_CHECKED &&
		(PyList_Check(value) || PyTuple_Check(value) || PyDict_Check(value)))
		report_bad_value(conv, value, ERRCODE_DATATYPE_MISMATCH, NULL);
	return datum_from_text(conv, value);
}
