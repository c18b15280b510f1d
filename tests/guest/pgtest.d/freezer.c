// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario freezer (main.c has the overview).
 */
#include "pgtest.h"

/* ------------------------------------------------------------------ */
/* Scenario: freezer                                                    */

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

static int freezer_skip(struct ctx *c, char *why, size_t len)
{
	char buf[256];

	if (read_file("/sys/power/state", buf, sizeof(buf)) || !strstr(buf, "freeze")) {
		snprintf(why, len, "no \"freeze\" in /sys/power/state");
		return 1;
	}
	if (read_file("/sys/power/pm_test", buf, sizeof(buf)) || !strstr(buf, "freezer")) {
		snprintf(why, len, "no /sys/power/pm_test with \"freezer\" (CONFIG_PM_DEBUG)");
		return 1;
	}
	if (access("/sys/power/pm_freeze_timeout", W_OK)) {
		snprintf(why, len, "no writable /sys/power/pm_freeze_timeout");
		return 1;
	}
	(void)c;
	return 0;
}

int sc_freezer(struct ctx *c)
{
	struct situ s = { .kind = TK_THREAD_EXITED, .extra = 2 };
	char why[128], where[256], timeout[32];
	int rc, rc2, err, before, after, tst;
	long long t0, freeze_ms;

	if (freezer_skip(c, why, sizeof(why))) {
		snprintf(c->why, sizeof(c->why), "%s", why);
		return SKIP;
	}
	rc = situ_build(c, &s);
	if (rc)
		return rc;
	kill(s.init, SIGKILL);
	rc = situ_wait_parked(c, &s, where, sizeof(where));
	if (rc)
		return rc;
	before = cpu_percent(s.init, 1000);

	if (read_file("/sys/power/pm_freeze_timeout", timeout, sizeof(timeout)))
		return failf(c, SETUP, "read pm_freeze_timeout: %m");
	err = write_file("/sys/power/pm_freeze_timeout", "2000");
	if (!err)
		err = write_file("/sys/power/pm_test", "freezer");
	if (err) {
		write_file("/sys/power/pm_freeze_timeout", timeout);
		return failf(c, SETUP, "cannot set up the freezer test: %s", strerror(err));
	}
	t0 = now_ms();
	err = write_file("/sys/power/state", "freeze");
	freeze_ms = now_ms() - t0;
	write_file("/sys/power/pm_test", "none");
	write_file("/sys/power/pm_freeze_timeout", timeout);
	after = cpu_percent(s.init, 2000);
	diag("freeze: %s after %lld ms; init cpu %d%% before, %d%% after; parked in %s",
	     err ? strerror(err) : "ok", freeze_ms, before, after, where);
	if (err)
		rc = failf(c, FAIL, "freeze failed (%s after %lld ms), init cpu %d%% after thaw (%d%% before), parked in %s",
			   strerror(err), freeze_ms, after, before, wait_stage(where));
	else if (after > 30)
		rc = failf(c, FAIL, "freeze ok (%lld ms) but init spins at %d%% cpu after thaw (%d%% before), parked in %s",
			   freeze_ms, after, before, wait_stage(where));

	/* Pass or fail: release, and the teardown must still end well. */
	rc2 = situ_release(c, &s, false, &tst);
	if (!rc2)
		rc2 = finish_teardown(c, s.init, &s.ns, now_ms(), SIGKILL, 0, NULL);
	if (rc)
		return rc;
	if (rc2)
		return rc2;
	snprintf(c->sum, sizeof(c->sum),
		 "freeze ok (%lld ms, pm_test freezer), init parked in its %s used %d%% cpu before, %d%% after thaw",
		 freeze_ms, wait_stage(where), before, after);
	return PASS;
}
