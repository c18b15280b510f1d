# SPDX-License-Identifier: GPL-2.0
#
# Thin wrapper around Kbuild (the real build description is ./Kbuild).
#
#   make                          build pidns_guard.ko for the running kernel
#   make KERNELRELEASE=<release>  build against /lib/modules/<release>/build
#   make KDIR=<headers dir>       build against any kernel headers tree
#   make clean                    remove build products
#   make check                    checkpatch --strict, sparse (C=1) and W=1
#   make test                     the test suite (see README.md)
#   make bench                    the benchmarks (see README.md)
#   make bench-cli                the command's cost on a big host
#                                 (tests/bench-cli, docs/bench.md)
#   make matrix                   every Debian kernel: build + smoke boot,
#                                 docs/compat.md (tests/matrix; resumable)
#   make mutants                  the mutation check (see docs/testing.md)

KERNELRELEASE ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

check:
	tests/lint.sh

test:
	tests/run

bench:
	tests/bench

bench-cli:
	tests/bench-cli

mutants:
	tests/mutants

matrix:
	tests/matrix

.PHONY: all modules clean check test bench bench-cli mutants matrix
