# make bench: exit path lengths, boot cost, footprint, allocator throughput, scheduling
# overhead, all under Bochs (instruction-exact TSC). tools/bench builds what it needs, runs
# every Bochs case twice (two at a time), prints a Markdown table and writes
# build/bench/results.json. BENCH_ARGS passes options, e.g. BENCH_ARGS=--no-trace.
bench: $(DEPS_STAMP)
	tools/bench $(BENCH_ARGS)
