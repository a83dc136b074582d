/*
 * interrupts.c
 *		PostgreSQL's cancel and terminate forwarded to Python code while it runs.
 *
 * PostgreSQL's cancel (pg_cancel_backend, statement_timeout) and terminate arrive as
 * SIGINT / SIGTERM and only set flags that CHECK_FOR_INTERRUPTS reads; Python code that
 * sleeps, loops or waits on a socket never reaches such a check. So while Python runs,
 * the signal is also forwarded to the interpreter as a simulated SIGINT, which raises
 * KeyboardInterrupt in the callback; pyerror.c turns that back into PostgreSQL's own
 * interrupt processing.
 */
#include "sgfdw.h"

#include <signal.h>

#include "miscadmin.h"

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
