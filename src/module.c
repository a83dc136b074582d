/*
 * module.c
 *		_PG_init, GUCs and the lazy start of the embedded interpreter.
 *
 * The interpreter starts in a backend on first use, never in the postmaster: a
 * forked postmaster-owned interpreter would be shared state across backends.
 *
 * A backend has one interpreter, shared with PL/Python (plpython3u links the same
 * libpython), whichever of the two starts it: sgfdw adopts one PL/Python started, and
 * leaves room for PL/Python's module in one it started itself.
 */
#include "sgfdw.h"

#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

char	   *sgfdw_python = NULL;
char	   *sgfdw_python_path = NULL;

static char *sgfdw_object_dir = NULL;
static int	sgfdw_fragment_rows = 1000000;
static bool python_started = false;
static PyObject *bridge_module = NULL;
unsigned long sgfdw_backend_thread = 0;

#ifndef SGFDW_DEFAULT_PYTHON
#define SGFDW_DEFAULT_PYTHON "/usr/local/lib/sgfdw/venv/bin/python"
#endif

/*
 * The interpreter reads these settings once, when it starts in a backend: a SET after
 * that would be silently ignored, so it says so.
 */
static void
warn_if_started(const char *name, const char *current, const char *newval, GucSource source)
{
	if (python_started && source == PGC_S_SESSION &&
		strcmp(current ? current : "", newval ? newval : "") != 0)
		ereport(WARNING,
				(errcode(ERRCODE_CANT_CHANGE_RUNTIME_PARAM),
				 errmsg("setting \"%s\" takes effect in new sessions only", name),
				 errdetail("The Python interpreter of this session has already started with \"%s\".",
						   current ? current : "")));
}

static bool
check_python(char **newval, void **extra, GucSource source)
{
	warn_if_started("sgfdw.python", sgfdw_python, *newval, source);
	return true;
}

static bool
check_python_path(char **newval, void **extra, GucSource source)
{
	warn_if_started("sgfdw.python_path", sgfdw_python_path, *newval, source);
	return true;
}

void
_PG_init(void)
{
	DefineCustomStringVariable("sgfdw.python",
							   "Python executable of the environment the backend embeds.",
							   "Its virtual environment becomes sys.prefix; read when the "
							   "interpreter starts in a backend.",
							   &sgfdw_python,
							   SGFDW_DEFAULT_PYTHON,
							   PGC_SUSET, 0,
							   check_python, NULL, NULL);
	DefineCustomStringVariable("sgfdw.python_path",
							   "Directories (':'-separated) put first on sys.path.",
							   NULL,
							   &sgfdw_python_path,
							   "",
							   PGC_SUSET, 0,
							   check_python_path, NULL, NULL);
	/* The object store (sgfdw/store/, which reads them with current_setting). */
	DefineCustomStringVariable("sgfdw.object_dir",
							   "Directory of the object store's Parquet files.",
							   "A relative path is taken from the data directory; each "
							   "database keeps its files in a subfolder named by its OID.",
							   &sgfdw_object_dir,
							   "sgfdw_objects",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("sgfdw.fragment_rows",
							"Most rows the object store puts in one fragment.",
							NULL,
							&sgfdw_fragment_rows,
							1000000, 1, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	sgfdw_define_sharing_settings();
	MarkGUCPrefixReserved("sgfdw");
	sgfdw_init_instance_cache();
	sgfdw_init_xact_callbacks();
}

static void
check_status(PyStatus status, const char *step)
{
	if (PyStatus_Exception(status))
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("could not start the Python interpreter: %s",
						status.err_msg ? status.err_msg : step),
				 errhint("Check the setting sgfdw.python (now \"%s\").", sgfdw_python)));
}

static void
prepend_python_path(void)
{
	PyObject   *sys_path = PySys_GetObject("path");	/* borrowed */
	char	   *copy;
	char	   *dir;
	char	   *saveptr = NULL;
	int			position = 0;

	if (sgfdw_python_path == NULL || sgfdw_python_path[0] == '\0' || sys_path == NULL)
		return;
	copy = pstrdup(sgfdw_python_path);
	for (dir = strtok_r(copy, ":", &saveptr); dir; dir = strtok_r(NULL, ":", &saveptr))
	{
		PyObject   *entry = PyUnicode_DecodeFSDefault(dir);

		if (entry == NULL || PyList_Insert(sys_path, position++, entry) < 0)
			sgfdw_report_python_error(0, "setting sys.path from sgfdw.python_path");
		Py_DECREF(entry);
	}
	pfree(copy);
}

/* Runs Python statements at start-up, with the given str variable defined. */
static void
run_startup_code(const char *code, const char *name, const char *value, const char *what)
{
	PyObject   *globals = PyDict_New();
	PyObject   *string = NULL;
	PyObject   *result = NULL;

	if (globals && PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) == 0)
	{
		string = value ? PyUnicode_DecodeFSDefault(value) : NULL;
		if (value == NULL || (string && PyDict_SetItemString(globals, name, string) == 0))
			result = PyRun_String(code, Py_file_input, globals, globals);
	}
	Py_XDECREF(string);
	Py_XDECREF(globals);
	if (result == NULL)
		sgfdw_report_python_error(0, what);
	Py_DECREF(result);
}

/*
 * An interpreter started by PL/Python has the system's sys.path: the venv's
 * site-packages (with its .pth files) go before the system's site directories, so venv
 * packages win as under the venv's own python; the system's stay after them for
 * PL/Python's functions. The builtin module table was read when it started, so
 * _sgfdw is put into sys.modules directly.
 */
static void
adopt_running_interpreter(void)
{
	static const char *const adopt_venv =
		"import os, site, sys\n"
		"venv = os.path.dirname(os.path.dirname(python))\n"
		"if os.path.exists(os.path.join(venv, 'pyvenv.cfg')):\n"
		"    before = list(sys.path)\n"
		"    site.addsitedir(os.path.join(venv, 'lib', 'python%d.%d' % sys.version_info[:2],\n"
		"                                 'site-packages'))\n"
		"    added = [p for p in sys.path if p not in before]\n"
		"    first = next((i for i, p in enumerate(before)\n"
		"                  if p.endswith(('site-packages', 'dist-packages'))), len(before))\n"
		"    sys.path[:] = before[:first] + added + before[first:]\n";
	PyObject   *module = PyInit__sgfdw();

	if (module == NULL || PyDict_SetItemString(PyImport_GetModuleDict(), "_sgfdw", module) < 0)
		sgfdw_report_python_error(0, "registering the _sgfdw module");
	Py_DECREF(module);
	run_startup_code(adopt_venv, "python", sgfdw_python,
					 "adding the virtual environment of sgfdw.python to sys.path");
}

static void
start_interpreter(void)
{
	PyPreConfig preconfig;
	PyConfig	config;

	/* Python must neither touch the backend's locale nor its signal handlers. */
	PyPreConfig_InitIsolatedConfig(&preconfig);
	preconfig.utf8_mode = 1;
	preconfig.configure_locale = 0;
	check_status(Py_PreInitialize(&preconfig), "pre-initialization");

	if (PyImport_AppendInittab("_sgfdw", PyInit__sgfdw) < 0)
		ereport(ERROR, (errmsg("could not register the _sgfdw module")));

	PyConfig_InitIsolatedConfig(&config);
	config.install_signal_handlers = 0;
	config.configure_c_stdio = 0;
	config.parse_argv = 0;
	config.site_import = 1;
	config.write_bytecode = 0;
	/* The venv's python as program name makes sys.prefix the venv (pyvenv.cfg). */
	check_status(PyConfig_SetBytesString(&config, &config.program_name, sgfdw_python),
				 "program name");
	check_status(Py_InitializeFromConfig(&config), "initialization");
	PyConfig_Clear(&config);

	/*
	 * PL/Python, loaded later, adds plpy to the builtin module table and imports it;
	 * CPython 3.11 finds it there but creates only builtins named in
	 * sys.builtin_module_names, fixed at start-up.
	 */
	run_startup_code("import sys\n"
					 "sys.builtin_module_names = sys.builtin_module_names + ('plpy',)\n",
					 NULL, NULL, "making room for PL/Python's module plpy");
}

void
sgfdw_ensure_python(void)
{
	if (python_started)
		return;
	if (access(sgfdw_python, X_OK) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("Python executable \"%s\" not found", sgfdw_python),
				 errhint("Run \"make install\" or set sgfdw.python to the python of a "
						 "virtual environment made with python3.11.")));
	if (Py_IsInitialized())
		adopt_running_interpreter();
	else
		start_interpreter();
	python_started = true;
	sgfdw_backend_thread = PyThread_get_thread_ident();

	prepend_python_path();
	sgfdw_install_interrupt_forwarding();
	sgconv_init_python();
}

PyObject *
sgfdw_bridge_attr(const char *name)
{
	PyObject   *attr;

	sgfdw_ensure_python();
	if (bridge_module == NULL)
	{
		bridge_module = PyImport_ImportModule("sgfdw.bridge");
		SGFDW_CHECK(bridge_module, "importing sgfdw.bridge");
	}
	attr = PyObject_GetAttrString(bridge_module, name);
	SGFDW_CHECK(attr, name);
	return attr;
}
