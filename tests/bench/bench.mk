# make bench: exit path lengths (hv and, side by side, KVM: tests/bench/kvm), boot cost,
# footprint, allocator throughput, scheduling overhead and the Linux boot under hv and bare
# (tools/fetch-linux's downloads, cached), all under Bochs (instruction-exact TSC), and the
# SMP figures (hvrun --cpus=1/2/4: boot, IPI round trip, EPT shootdown; approximate TSC).
# tools/bench builds what it needs, runs every Bochs case twice (two at a time), prints a
# Markdown table, writes build/bench/results.json and regenerates README's Performance
# section from it (tools/bench --readme). BENCH_ARGS passes options, e.g.
# BENCH_ARGS=--no-trace, BENCH_ARGS=--no-kvm, BENCH_ARGS=--only=linux or BENCH_ARGS=--only=smp.
bench: $(DEPS_STAMP)
	tools/bench $(BENCH_ARGS)
	tools/bench --readme
