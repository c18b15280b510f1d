// SPDX-License-Identifier: GPL-2.0
/*
 * pgtracer PID: attach to PID with PTRACE_SEIZE (no options: no exit
 * event stop, the tracee runs on) and never wait for it, like a debugger
 * left at its prompt.  Once PID is killed it stays a zombie that only
 * this tracer can reap: the `zombie-traced` holder of pidns-guard stuck.
 * Killing the tracer releases it.  Built static on the host by image.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	pid_t pid;

	if (argc != 2) {
		fprintf(stderr, "usage: pgtracer PID\n");
		return 2;
	}
	pid = (pid_t)atoi(argv[1]);
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0) {
		perror("pgtracer: PTRACE_SEIZE");
		return 1;
	}
	for (;;)
		pause();
}
