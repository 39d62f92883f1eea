"""Run a module under cProfile timed by the main thread's CPU clock.

`python -m cProfile` times functions by the wall clock: on a shared machine a function
waiting for a core looks as costly as one using it, and the load of the hour inflates
every figure (by 2–3× in earlier rounds). Timed by `time.thread_time`, a profile counts
only the CPU the main thread spent — the collector's only writer — so two profiles taken
at different loads compare. The I/O threads are not profiled; their CPU is the process's
total less the main thread's, printed on stderr with it.

Run: python benchmarks/_cpuprofile.py OUT.prof veille collect --all --json
"""

from __future__ import annotations

import cProfile
import resource
import runpy
import sys
import time


def main() -> None:
    out, module, *args = sys.argv[1:]
    sys.argv = [module, *args]
    profiler = cProfile.Profile(time.thread_time)
    code = 0
    profiler.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    finally:
        profiler.disable()
        main_thread = time.thread_time()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        total = usage.ru_utime + usage.ru_stime
        profiler.dump_stats(out)
        print(
            f"cpu profile: main thread {main_thread:.1f} s, other threads "
            f"{total - main_thread:.1f} s of CPU",
            file=sys.stderr,
            flush=True,
        )
    sys.exit(code)


if __name__ == "__main__":
    main()
