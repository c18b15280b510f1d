// SPDX-License-Identifier: GPL-2.0
/*
 * The trace events of pg_trace.h, instantiated once.  Their users include
 * pg_trace.h and call trace_pidns_guard_*(): a static branch, not taken
 * while nobody listens.
 */
#define CREATE_TRACE_POINTS
#include "pg_trace.h"
