// SPDX-License-Identifier: GPL-2.0
/*
 * The freezer and a parked teardown.
 *
 *   freezer (1)          init parked in its final wait; suspend-to-idle
 *                        freezer test: must freeze, must not spin after
 *   freezer_reap (1)     the same with init parked in its reap loop
 *
 * freezer: the init is held by a zombie thread of its own traced from
 * outside (pgtest hold's "zombie" kind): it sleeps in the final wait, the
 * wait the old kernels spin in.  freezer_reap: by a child of its own, in a
 * ptrace-stop of an outside tracer when the teardown killed it, a zombie
 * only that tracer may reap (pgtest hold's "stopped" kind): init sleeps in
 * its reap loop, which old kernels' do_wait() sleeps TASK_INTERRUPTIBLE,
 * not freezable: suspend fails.  Both must freeze, not spin after the
 * thaw, and end once the tracer lets go.  Need /sys/power/pm_test
 * (CONFIG_PM_DEBUG) and "freeze" in /sys/power/state, or are skipped.
 */
#include "pgtest.h"

#define PM_FREEZE_TIMEOUT	"/sys/power/pm_freeze_timeout"

/* CPU time (utime + stime, clock ticks) of the whole process. */
static long long cpu_ticks(pid_t pid)
{
	struct pstat ps;

	return read_stat(pid, 0, &ps) ? -1 : (long long)(ps.utime + ps.stime);
}

/* Percent of one CPU that pid used over ms of wall time. */
static int cpu_percent(pid_t pid, int ms)
{
	long long c0 = cpu_ticks(pid), t0 = now_us(), c1, t1;

	sleep_us(ms * 1000L);
	c1 = cpu_ticks(pid);
	t1 = now_us();
	if (c0 < 0 || c1 < 0)
		return -1;
	return (int)((c1 - c0) * 100 * 1000000LL / sysconf(_SC_CLK_TCK) / (t1 - t0));
}

/* Why this kernel cannot run the freezer test, or NULL. */
static const char *freezer_missing(void)
{
	char buf[256];

	if (read_file("/sys/power/state", buf, sizeof(buf)) || !strstr(buf, "freeze"))
		return "no \"freeze\" in /sys/power/state";
	if (read_file("/sys/power/pm_test", buf, sizeof(buf)) || !strstr(buf, "freezer"))
		return "no /sys/power/pm_test with \"freezer\" (CONFIG_PM_DEBUG)";
	if (access(PM_FREEZE_TIMEOUT, W_OK))
		return "no writable " PM_FREEZE_TIMEOUT;
	return NULL;
}

/*
 * The freezer test (pm_test "freezer": freeze every task, then thaw),
 * with a 2 s freeze timeout, the settings put back after.  *err: the
 * errno the write of "freeze" gave (0: all froze), *ms: how long it took.
 */
static int freeze_test(struct ctx *c, int *err, long long *ms)
{
	char timeout[32];
	long long t0;

	if (read_file(PM_FREEZE_TIMEOUT, timeout, sizeof(timeout)))
		return failf(c, SETUP, "read pm_freeze_timeout: %m");
	*err = write_file(PM_FREEZE_TIMEOUT, "2000");
	if (!*err)
		*err = write_file("/sys/power/pm_test", "freezer");
	if (*err) {
		write_file(PM_FREEZE_TIMEOUT, timeout);
		return failf(c, SETUP, "cannot set up the freezer test: %s", strerror(*err));
	}
	t0 = now_ms();
	*err = write_file("/sys/power/state", "freeze");
	*ms = now_ms() - t0;
	write_file("/sys/power/pm_test", "none");
	write_file(PM_FREEZE_TIMEOUT, timeout);
	return PASS;
}

/*
 * Build s, kill its init, and freeze the system while the teardown is
 * parked where s holds it (want: wait_stage()'s word for that wait).
 */
static int freezer_parked(struct ctx *c, struct situ *s, const char *want)
{
	const char *missing = freezer_missing();
	int rc, rc2, err = 0, before, after, tst;
	char where[256];
	long long freeze_ms = 0;

	if (missing)
		return skipf(c, "%s", missing);
	rc = situ_build(c, s);
	if (rc)
		return rc;
	kill(s->r.init, SIGKILL);
	rc = situ_wait_parked(c, s, where, sizeof(where));
	if (rc)
		return rc;
	if (strcmp(wait_stage(where), want))
		return failf(c, SETUP, "init parked in its %s (kernel stack %s), not its %s",
			     wait_stage(where), where, want);
	before = cpu_percent(s->r.init, 1000);
	rc = freeze_test(c, &err, &freeze_ms);
	if (rc)
		return rc;
	after = cpu_percent(s->r.init, 2000);
	diag("freeze: %s after %lld ms; init cpu %d%% before, %d%% after; parked in %s",
	     err ? strerror(err) : "ok", freeze_ms, before, after, where);
	if (err)
		rc = failf(c, FAIL, "freeze failed (%s after %lld ms), init cpu %d%% after thaw (%d%% before), parked in %s",
			   strerror(err), freeze_ms, after, before, want);
	else if (after > 30)
		rc = failf(c, FAIL, "freeze ok (%lld ms) but init spins at %d%% cpu after thaw (%d%% before), parked in %s",
			   freeze_ms, after, before, want);

	/* Pass or fail: release, and the teardown must still end well. */
	rc2 = situ_release(c, s, false, &tst);
	if (!rc2)
		rc2 = finish_teardown(c, s->r.init, &s->r.ns, now_ms(), SIGKILL, 0, NULL);
	if (rc)
		return rc;
	if (rc2)
		return rc2;
	return passf(c, "freeze ok (%lld ms, pm_test freezer), init parked in its %s used %d%% cpu before, %d%% after thaw; the teardown ended once the tracer reaped",
		     freeze_ms, want, before, after);
}

static int sc_freezer(struct ctx *c)
{
	struct situ s = { .kind = TK_THREAD_EXITED, .extra = 2 };

	return freezer_parked(c, &s, "final wait");
}

static int sc_freezer_reap(struct ctx *c)
{
	struct situ s = { .kind = TK_CHILD, .stop = true, .extra = 2 };

	return freezer_parked(c, &s, "reap loop");
}

const struct scenario scenario_freezer = { "freezer", sc_freezer, 1 };
const struct scenario scenario_freezer_reap = { "freezer_reap", sc_freezer_reap, 1 };
