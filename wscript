#!/usr/bin/env python3
# hotpatch: a live-patchable modular synthesizer as an LV2 instrument.
#   ./waf configure [--debug] [--sanitize=address,undefined] [--werror]
#   ./waf build | ./waf test [--tests=PATTERN] | ./waf bench | ./waf fuzz | ./waf install [--lv2dir=DIR]

import os
import re
import subprocess
import sys
import time

from waflib import Build, Context, Logs, Options, Utils

APPNAME = "hotpatch"
VERSION = "0.1.0"
top = "."
out = "build"

BUNDLE = "hotpatch.lv2"
# The bundle in the build tree: a folder of its own, so that
# LV2_PATH=build/lv2 holds nothing but bundles.
BUNDLE_DIR = "lv2/" + BUNDLE


# The module types, from the list the registry and the tests read too: each
# HP_MODULE(name) line of src/modules.def names src/mod_<name>.c.
def _read_modules():
    with open(os.path.join(Context.run_dir, "src", "modules.def")) as f:
        return re.findall(r"^HP_MODULE\((\w+)\)", f.read(), re.M)


MODULES = _read_modules()

ENGINE_SOURCES = (["src/registry.c", "src/status.c", "src/patch.c",
                   "src/graph.c", "src/engine.c", "src/audio_thread.c",
                   "src/worker.c", "src/patch_file.c", "src/ops.c", "src/text.c",
                   "src/patchdoc.c"]
                  + ["src/mod_%s.c" % m for m in MODULES])

PLUGIN_SOURCES = ["plugin/hotpatch.c", "plugin/atoms.c"]

# The inline display, drawn with Cairo: a library of its own, which the
# host tests link too (they look at what it publishes).
DISPLAY_SOURCES = ["plugin/display.c"]

# Test programs: every test_*.c in these folders, taking no arguments and
# exiting 0 on success.  Those that include the test host ("host.h") drive
# the built bundle through it; the others link the engine alone.  Scripts
# are every tests/test_*.sh.
C_TEST_GLOBS = ["tests/test_*.c", "tools/host/test_*.c"]

# A test that runs longer than this has hung (valgrind: four times as long).
TEST_TIMEOUT = 600

# Benchmark programs under tests/bench/ (built with the tests): seed_metrics
# and hp_bench, which tests/bench/report.py drives ('./waf bench' runs both).
BENCHES = ["seed_metrics", "hp_bench"]

# libFuzzer targets under tests/fuzz/ (built with clang when configure finds
# it, run by tests/test_fuzz.sh and './waf fuzz'), and the plugin sources
# each links besides the engine's.
FUZZERS = [("fuzz_atoms", ["plugin/atoms.c"]),
           ("fuzz_text", []),
           ("fuzz_doc", []),
           ("fuzz_state", PLUGIN_SOURCES + DISPLAY_SOURCES)]
FUZZ_FLAGS = ["-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
              "-g", "-O1", "-fno-omit-frame-pointer"]

# Debian package that provides each pkg-config module.
PACKAGES = [("lv2", "1.18.0", "lv2-dev"),
            ("lilv-0", "0.24.0", "liblilv-dev"),
            ("serd-0", "0.30.0", "libserd-dev"),
            ("sord-0", "0.16.0", "libsord-dev"),
            ("sndfile", "1.0.28", "libsndfile1-dev"),
            ("libpng", "1.6.0", "libpng-dev"),
            ("cairo", "1.16.0", "libcairo2-dev"),
            # Cairo's text finds its fonts with it; the tests free its caches.
            ("fontconfig", "2.13.0", "libfontconfig-dev")]

WARNINGS = ["-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion",
            "-Wno-sign-conversion",  # size_t/uint32_t/int index mixing is everywhere in C
            "-Wformat=2", "-Wmissing-prototypes", "-Wstrict-prototypes",
            "-Wold-style-definition", "-Wpointer-arith", "-Wcast-qual",
            "-Wundef", "-Wvla", "-Wdouble-promotion", "-Wnull-dereference"]


def options(opt):
    opt.load("compiler_c")
    opt.add_option("--lv2dir", default=None,
                   help="where to install hotpatch.lv2/ [default: ~/.lv2 for "
                        "non-root users, PREFIX/lib/lv2 for root]")
    opt.add_option("--debug", action="store_true", default=False,
                   help="build with -O0 -g and assertions [default: release -O2]")
    opt.add_option("--sanitize", default="",
                   help="comma-separated sanitizers, e.g. address,undefined or thread")
    opt.add_option("--werror", action="store_true",
                   default=os.environ.get("CI") == "true",
                   help="treat compiler warnings as errors [default: on when CI=true]")
    opt.add_option("--tests", default="",
                   help="with 'test' or 'bench': run only those whose name "
                        "contains this (benches: seed_metrics, report)")
    opt.add_option("--valgrind", action="store_true", default=False,
                   help="with 'test': run the C test programs under valgrind "
                        "memcheck (any error or definite leak fails)")


def configure(conf):
    conf.load("compiler_c")
    for pkg, version, deb in PACKAGES:
        conf.check_cfg(package=pkg, atleast_version=version,
                       args=["--cflags", "--libs"],
                       uselib_store=pkg.split("-")[0].upper(),
                       msg="Checking for %s >= %s" % (pkg, version),
                       errmsg="not found: install it with 'apt-get install %s'" % deb)
    conf.check_cc(lib="m", uselib_store="M")
    conf.check_cc(lib="pthread", uselib_store="PTHREAD")
    conf.check_cc(lib="dl", uselib_store="DL")

    o = conf.options
    conf.env.DEBUG = o.debug
    conf.env.SANITIZE = o.sanitize
    cflags = ["-std=c11", "-D_POSIX_C_SOURCE=200809L", "-fPIC",
              "-fvisibility=hidden", "-fno-math-errno"] + WARNINGS
    # Release: -O2 plus loop vectorization with gcc's dynamic cost model
    # (-O2 alone vectorizes only the very cheapest loops: measured 59 vs 40
    # instructions a sample for the seed chain).
    cflags += (["-O0", "-g"] if o.debug else
               ["-O2", "-g", "-DNDEBUG", "-ftree-vectorize",
                "-fvect-cost-model=dynamic"])
    if o.werror:
        cflags.append("-Werror")
    linkflags = []
    if o.sanitize:
        # Undefined behaviour stops the test, rather than printing and going on.
        san = ["-fsanitize=" + o.sanitize, "-fno-omit-frame-pointer",
               "-fno-sanitize-recover=all"]
        cflags += san
        linkflags += san
    conf.env.append_value("CFLAGS", cflags)
    conf.env.append_value("LINKFLAGS", linkflags)

    configure_fuzzers(conf)

    if o.lv2dir:
        lv2dir = o.lv2dir
    elif os.geteuid() == 0:
        lv2dir = os.path.join(conf.env.PREFIX, "lib", "lv2")
    else:
        lv2dir = os.path.join(os.path.expanduser("~"), ".lv2")
    conf.env.LV2DIR = lv2dir

    Logs.pprint("BLUE", "")
    conf.msg("Build type", "debug" if o.debug else "release")
    conf.msg("Sanitizers", o.sanitize or "none")
    conf.msg("Warnings as errors", "yes" if o.werror else "no")
    conf.msg("LV2 bundle installs to", os.path.join(lv2dir, BUNDLE))


def configure_fuzzers(conf):
    """The fuzzers need clang and its libFuzzer runtime (libclang-rt-14-dev
    on Debian 12); without them the rest builds and tests/test_fuzz.sh
    fails saying what to install."""
    if conf.options.sanitize:
        # They carry their own sanitizers: the plain build runs them.
        conf.msg("Fuzzers", "not in --sanitize builds", color="YELLOW")
        return
    conf.find_program("clang", var="CLANG", mandatory=False)
    if not conf.env.CLANG:
        return
    probe = conf.bldnode.make_node("fuzz_probe.c")
    probe.write("#include <stddef.h>\n#include <stdint.h>\n"
                "int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n);\n"
                "int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n)"
                " { (void)d; (void)n; return 0; }\n")
    exe = probe.abspath()[:-2]
    try:
        conf.cmd_and_log(conf.env.CLANG + FUZZ_FLAGS + [probe.abspath(), "-o", exe],
                         output=Context.BOTH, quiet=Context.BOTH)
        conf.msg("Checking for libFuzzer (clang -fsanitize=fuzzer)", "yes")
    except conf.errors.WafError:
        conf.msg("Checking for libFuzzer (clang -fsanitize=fuzzer)",
                 "no: install libclang-rt-14-dev", color="YELLOW")
        conf.env.CLANG = []
    finally:
        for path in (probe.abspath(), exe):
            if os.path.exists(path):
                os.remove(path)


def build(bld):
    # A module file that the list does not name would be left out silently.
    files = {n.name[len("mod_"):-len(".c")] for n in bld.path.ant_glob("src/mod_*.c")}
    unlisted, missing = sorted(files - set(MODULES)), sorted(set(MODULES) - files)
    if unlisted or missing:
        bld.fatal("src/modules.def and src/mod_*.c disagree:%s%s" % (
            "".join(" add HP_MODULE(%s) to the list;" % m for m in unlisted),
            "".join(" src/mod_%s.c is missing;" % m for m in missing)))
    bld.stlib(source=ENGINE_SOURCES, target="hpengine", includes=["src"],
              export_includes=["src"], use=["SERD", "SORD", "M"])

    # The bundle: each file is built into build/lv2/hotpatch.lv2/ and
    # installed to the same place under LV2DIR.
    inst = "${LV2DIR}/" + BUNDLE
    # An LV2 binary has no 'lib' prefix: the platform's pattern without it.
    plugin_env = bld.env.derive()
    plugin_env.cshlib_PATTERN = re.sub("^lib", "", bld.env.cshlib_PATTERN)
    bld.stlib(source=DISPLAY_SOURCES, target="hpdisplay", includes=["plugin", "src"],
              export_includes=["plugin"], use=["CAIRO", "LV2", "M"])
    bld.shlib(source=PLUGIN_SOURCES, target=BUNDLE_DIR + "/hotpatch",
              env=plugin_env, includes=["plugin", "src"],
              use=["hpengine", "hpdisplay", "CAIRO", "LV2", "M"], install_path=inst)

    # The two plugins' description: what they share is written once
    # (ttl/plugin.ttl.in) and goes into each entry of ttl/hotpatch.ttl.in.
    bld(rule=_write_plugins, source=["ttl/hotpatch.ttl.in", "ttl/plugin.ttl.in"],
        target=BUNDLE_DIR + "/hotpatch.ttl", install_path=inst)
    bld(features="subst", is_copy=True, source="ttl/hp.ttl",
        target=BUNDLE_DIR + "/hp.ttl", install_path=inst)

    # Presets are written as text-protocol scripts (presets/*.hps) and
    # compiled into LV2 presets by the code the plugin runs.
    bld.program(source=["tools/preset.c"], target="tools/hp-preset",
                use=["hpengine", "LV2", "M"], install_path=None)
    presets = sorted(bld.path.ant_glob("presets/*.hps"), key=lambda n: n.name)
    compiled = []
    for script in presets:
        name = script.name[:-len(".hps")]
        compiled.append(
            bld.path.find_or_declare(BUNDLE_DIR + "/presets/%s.ttl" % name))
        bld(rule="${SRC[0].abspath()} %s ${SRC[1].abspath()} > ${TGT}" % name,
            source=["tools/hp-preset", script], target=compiled[-1],
            install_path=inst + "/presets")
    manifest_env = bld.env.derive()
    pattern = plugin_env.cshlib_PATTERN
    manifest_env.LIB_EXT = pattern[pattern.rfind("."):]
    bld(rule=_write_manifest, source=["ttl/manifest.ttl.in"] + compiled,
        target=BUNDLE_DIR + "/manifest.ttl", env=manifest_env,
        vars=["LIB_EXT"], install_path=inst)

    # The module reference, generated from the descriptors.
    bld.program(source=["tools/describe.c"], target="tools/hp-describe",
                use=["hpengine", "M"], install_path=None)
    bld(rule="${SRC[0].abspath()} --ttl > ${TGT}", source="tools/hp-describe",
        target=BUNDLE_DIR + "/modules.ttl", install_path=inst)

    # The lilv host that hotpatch-render and the tests share.  It sends the
    # protocol through the plugin's own text parser and atom encoder.  Its
    # files are tools/host/host*.c (the test programs there are test_*.c).
    bld.stlib(source=bld.path.ant_glob("tools/host/host*.c") + ["plugin/atoms.c"],
              target="tools/hphost",
              includes=["tools/host", "plugin", "src"],
              export_includes=["tools/host", "plugin", "src"],
              use=["hpengine", "LILV", "LV2", "PTHREAD", "M"])

    # The command-line host.  HP_LV2DIR: where the bundle is installed.
    bld.program(source=["tools/render.c", "tools/patch_dot.c"],
                target="tools/hotpatch-render",
                use=["hpengine", "tools/hphost", "SNDFILE", "LIBPNG", "LILV",
                     "LV2", "PTHREAD", "M"],
                defines=['HP_LV2DIR="%s"' % bld.env.LV2DIR])

    # Tests, benchmarks and fuzzers are built only by the commands that run
    # them: './waf build' and './waf install' build what ships.
    if bld.cmd in ("test", "bench"):
        build_tests(bld)
    if bld.cmd in ("test", "fuzz") and bld.env.CLANG:
        build_fuzzers(bld)


# hotpatch.ttl: the template with what both plugins share in each entry.
# (No docstring: waf lists documented top-level functions as commands.)
def _write_plugins(task):
    template, shared = (n.read() for n in task.inputs)
    if template.count("@PLUGIN@") != 2:
        Logs.error("%s: want @PLUGIN@ once in each of the two plugins' "
                   "entries" % task.inputs[0].relpath())
        return 1
    task.outputs[0].write(template.replace("@PLUGIN@", shared.rstrip("\n")))


# manifest.ttl: the plugins, then one entry per preset, for the plugin the
# compiled preset applies to (hp-preset writes what its script says).
def _write_manifest(task):
    text = task.inputs[0].read().replace("@LIB_EXT@", task.env.LIB_EXT)
    for preset in task.inputs[1:]:
        name = preset.name[:-len(".ttl")]
        applies = re.findall(r"^\s*lv2:appliesTo (<[^>]+>)", preset.read(), re.M)
        if len(applies) != 1:
            Logs.error("%s: want one lv2:appliesTo, found %d"
                       % (preset.relpath(), len(applies)))
            return 1
        text += ("\n<urn:hotpatch:preset:%s>\n\ta pset:Preset ;\n"
                 "\tlv2:appliesTo %s ;\n"
                 "\trdfs:seeAlso <presets/%s.ttl> .\n" % (name, applies[0], name))
    task.outputs[0].write(text)


def build_tests(bld):
    bld.stlib(source=["tests/signal.c"], target="tests/hpsignal",
              export_includes=["tests"], use=["M"])
    unit_tests, host_tests = _c_tests(bld.path)
    for src in unit_tests:
        bld.program(source=[src], target="tests/" + src.name[:-2],
                    includes=["src", "tests"],
                    use=["hpengine", "tests/hpsignal", "M", "PTHREAD"],
                    install_path=None)
    # The real-time checker, as objects so that it is always linked in (see
    # rtcheck.h): its hp_rt_set_active() replaces the host's weak no-op.
    bld.objects(source=["tests/host/rtcheck.c"], target="tests/rtcheck",
                includes=["tests/host", "tools/host", "plugin"], use=["LV2"])
    # -rdynamic: the dlopen'ed plugin must bind to rtcheck's interposed
    # malloc/lock functions in the test executable.
    for src in host_tests:
        bld.program(source=[src], target="tests/" + src.name[:-2],
                    includes=["tests", "tests/host"],
                    use=["tests/rtcheck", "tools/hphost", "tests/hpsignal",
                         "hpdisplay", "CAIRO", "FONTCONFIG", "LILV", "LV2",
                         "PTHREAD", "DL", "M"],
                    linkflags=["-rdynamic"], install_path=None)
    for b in BENCHES:
        bld.program(source=["tests/bench/%s.c" % b], target="tests/bench/" + b,
                    includes=["src", "tests", "tests/host"],
                    use=["hpengine", "tests/rtcheck", "tools/hphost", "tests/hpsignal",
                         "LILV", "LV2", "PTHREAD", "DL", "M"],
                    linkflags=["-rdynamic"], install_path=None)


def _c_tests(top):
    """(unit tests, host tests) as source nodes, each list sorted by name."""
    sources = sorted((n for g in C_TEST_GLOBS for n in top.ant_glob(g)),
                     key=lambda n: n.name)
    host = [n for n in sources if '#include "host.h"' in n.read()]
    return [n for n in sources if n not in host], host


def build_fuzzers(bld):
    """Each fuzzer is one clang command over its harness and the engine's
    (and plugin's) sources, instrumented as a whole: the gcc-built objects
    carry no coverage or sanitizer instrumentation."""
    headers = (bld.path.ant_glob("src/*.h") + bld.path.ant_glob("plugin/*.h")
               + bld.path.ant_glob("tests/fuzz/*.h")
               + [bld.path.find_node("src/modules.def"),  # registry.c's list
                  bld.path.find_node("wscript")])  # the flags above
    for name, plugin_sources in FUZZERS:
        bld(rule=compile_fuzzer,
            source=(["tests/fuzz/%s.c" % name] + plugin_sources + ENGINE_SOURCES
                    + headers),
            target="tests/fuzz/" + name, vars=["CLANG", "CFLAGS"],
            install_path=None)


def compile_fuzzer(task):
    env = task.env
    top = task.generator.bld.path
    cflags = ["-std=c11", "-D_POSIX_C_SOURCE=200809L"] + WARNINGS + [
        # clang-only warnings on code built warning-free by gcc: serd's
        # error sink hands us a format and a va_list (patchdoc.c); the
        # status parameter before '...' in atoms.c is an enum.
        "-Wno-format-nonliteral", "-Wno-varargs"]
    if "-Werror" in env.CFLAGS:
        cflags.append("-Werror")
    includes = ["-I" + top.find_dir(d).abspath() for d in ("src", "plugin", "tests/fuzz")]
    for lib in ("LV2", "SERD", "SORD", "CAIRO"):
        includes += ["-isystem" + i for i in env["INCLUDES_" + lib]]
    libs = ["-l" + lib for lib in env.LIB_SORD + env.LIB_SERD + env.LIB_CAIRO]
    libs += ["-L" + d for d in env.LIBPATH_SORD + env.LIBPATH_SERD + env.LIBPATH_CAIRO]
    libs += ["-lm", "-lpthread"]
    sources = [n.abspath() for n in task.inputs if n.name.endswith(".c")]
    cmd = (env.CLANG + FUZZ_FLAGS + cflags + includes + sources
           + ["-o", task.outputs[0].abspath()] + libs)
    return task.exec_command(cmd)


class TestContext(Build.BuildContext):
    """builds, then runs every test and prints 'N passed, N failed'"""
    cmd = "test"
    fun = "build"


# The environment tests and benchmarks run in: the built bundle.
# (A leading underscore and no docstring keep it out of './waf --help'.)
def _test_env(ctx):
    bld_dir = ctx.path.get_bld().abspath()
    env = dict(os.environ)
    bundle = os.path.join(bld_dir, BUNDLE_DIR)
    env["LV2_PATH"] = os.path.dirname(bundle)
    env["HP_BUNDLE"] = bundle
    env["HP_SRC"] = ctx.path.abspath()
    if "address" in (ctx.env.SANITIZE or ""):
        # Whole stacks of the allocations left at exit (the suppressions
        # match a frame deep in them), not the two frames a fast unwind
        # finds through code built without frame pointers.
        env["LSAN_OPTIONS"] = ("suppressions=%s:print_suppressions=0:"
                               "fast_unwind_on_malloc=0" %
                               ctx.path.find_node("tests/lsan.supp").abspath())
    return env


def _plain_build_only(path):
    """A script that measures or drives what only the plain build can (real
    hosts, benchmarks, its own instrumented fuzzers) says so on its second
    line, '# plain build only: why'; the sanitizer builds skip it."""
    if not path.endswith(".sh"):
        return None
    with open(path) as f:
        f.readline()
        line = f.readline()
    prefix = "# plain build only: "
    return line[len(prefix):].strip() if line.startswith(prefix) else None


def run_tests(ctx):
    bld_dir = ctx.path.get_bld().abspath()
    env = _test_env(ctx)
    pattern = Options.options.tests
    unit_tests, host_tests = _c_tests(ctx.path)
    tests = [os.path.join(bld_dir, "tests", n.name[:-2])
             for n in unit_tests + host_tests]
    tests += [n.abspath() for n in
              sorted(ctx.path.ant_glob("tests/test_*.sh"), key=lambda n: n.name)]
    passed, failed, skipped = [], [], []
    timeout = TEST_TIMEOUT * (4 if Options.options.valgrind else 1)
    jobs = []  # (name, command), in order
    for path in tests:
        name = os.path.basename(path)
        if pattern and pattern not in name:
            continue
        plain_only = _plain_build_only(path)
        if plain_only and ctx.env.SANITIZE:
            skipped.append(name)
            Logs.pprint("YELLOW", "SKIP %-24s (--sanitize=%s: %s)"
                        % (name, ctx.env.SANITIZE, plain_only))
            continue
        cmd = ["bash", path] if path.endswith(".sh") else [path]
        if Options.options.valgrind:
            # Scripts drive other programs; test_ring's two-thread spin of
            # 4 million items takes valgrind (one thread at a time) 15 min;
            # test_host drives Debian's example plugins, and eg-sampler
            # leaks a sample now and then when a threaded reply comes late.
            if path.endswith(".sh") or name in ("test_ring", "test_host"):
                continue
            cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                   "--suppressions=" +
                   ctx.path.find_node("tests/valgrind.supp").abspath(),
                   "--errors-for-leak-kinds=definite"] + cmd
        jobs.append((name, cmd))

    # Under valgrind or a sanitizer a test program runs many times slower
    # and uses one core: those run side by side, one a core (the scripts,
    # which start jackd or Ardour, and a plain build's, which the benchmark
    # times, one at a time).
    pool = None
    if Options.options.valgrind or ctx.env.SANITIZE:
        import concurrent.futures
        pool = concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1)

    def start(cmd):
        t0 = time.time()
        code, out = _run_test(cmd, env, bld_dir, timeout)
        return code, out, time.time() - t0

    running = [pool.submit(start, cmd) if pool and cmd[0] != "bash" else None
               for name, cmd in jobs]
    for (name, cmd), future in zip(jobs, running):
        returncode, output, secs = future.result() if future else start(cmd)
        if returncode == 0:
            passed.append(name)
            Logs.pprint("GREEN", "PASS %-24s %6.1f s" % (name, secs))
            for line in output.splitlines():
                if line.startswith("#"):  # figures a test reports
                    Logs.pprint("NORMAL", "     " + line)
        else:
            failed.append(name)
            Logs.pprint("RED", "FAIL %-24s %6.1f s (%s)" % (
                name, secs, "timed out" if returncode is None else "exit %d" % returncode))
            Logs.pprint("NORMAL", output[-6000:])
    if pool:
        pool.shutdown()
    summary = "%d passed, %d failed" % (len(passed), len(failed))
    if skipped:
        summary += ", %d skipped" % len(skipped)
    print(summary)
    if failed or not passed:
        ctx.fatal("failed: " + " ".join(failed) if failed else "no test ran")


def _run_test(cmd, env, cwd, timeout):
    """(exit code or None when it timed out, output).  A test that hangs is
    killed with everything it started (jackd, Ardour, valgrind)."""
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, _ = proc.communicate()
        out += b"\ntimed out after %d s\n" % timeout
        code = None
    return code, out.decode("utf-8", "replace")


def test(ctx):
    build(ctx)
    ctx.add_post_fun(run_tests)


TestContext.fun = "test"


class BenchContext(Build.BuildContext):
    """builds, then prints the seed metrics and the benchmark report (build/bench.md)"""
    cmd = "bench"
    fun = "build"


def run_benches(ctx):
    bld_dir = ctx.path.get_bld().abspath()
    env = _test_env(ctx)
    report = os.path.join(ctx.path.abspath(), "tests", "bench", "report.py")
    # The seed's metrics, then the report (hp_bench natively and under
    # callgrind, Pd and SuperCollider beside it), also kept as bench.md.
    runs = [("seed_metrics", [os.path.join(bld_dir, "tests", "bench", "seed_metrics")]),
            ("report", [sys.executable, report, "--build", bld_dir,
                        "--out", os.path.join(bld_dir, "bench.md")])]
    pattern = Options.options.tests
    failed = []
    for name, cmd in runs:
        if pattern and pattern not in name:
            continue
        Logs.pprint("BLUE", "bench %s" % name)
        sys.stdout.flush()
        start = time.time()
        # Output goes straight to the terminal, unfiltered.
        proc = subprocess.run(cmd, env=env, cwd=bld_dir)
        secs = time.time() - start
        if proc.returncode:
            failed.append(name)
            Logs.pprint("RED", "bench %s: exit %d after %.1f s" % (name, proc.returncode, secs))
        else:
            Logs.pprint("GREEN", "bench %s: %.1f s" % (name, secs))
    if failed:
        ctx.fatal("benchmarks that missed a target: " + " ".join(failed))


def bench(ctx):
    build(ctx)
    ctx.add_post_fun(run_benches)


BenchContext.fun = "bench"


class FuzzContext(Build.BuildContext):
    """builds, then runs each fuzzer for HP_FUZZ_SECONDS (default 600) and prints its figures"""
    cmd = "fuzz"
    fun = "build"


def run_fuzzers(ctx):
    bld_dir = ctx.path.get_bld().abspath()
    env = _test_env(ctx)
    env.setdefault("HP_FUZZ_SECONDS", "600")
    # The grown corpora stay in the build folder for the next run.
    env.setdefault("HP_FUZZ_CORPUS", os.path.join(bld_dir, "tests", "fuzz", "corpus"))
    Logs.pprint("BLUE", "fuzzing each target for %s s; corpora in %s"
                % (env["HP_FUZZ_SECONDS"], env["HP_FUZZ_CORPUS"]))
    sys.stdout.flush()
    proc = subprocess.run(["bash", os.path.join(ctx.path.abspath(), "tests", "test_fuzz.sh")],
                          env=env, cwd=bld_dir)
    if proc.returncode:
        ctx.fatal("fuzzing found something (or could not run): see above")


def fuzz(ctx):
    build(ctx)
    ctx.add_post_fun(run_fuzzers)


FuzzContext.fun = "fuzz"


class PicturesContext(Build.BuildContext):
    """builds, then draws the README's pictures of patches into docs/pictures/ (needs Graphviz)"""
    cmd = "pictures"
    fun = "build"


def _draw_pictures(ctx):
    render = os.path.join(ctx.path.get_bld().abspath(), "tools", "hotpatch-render")
    script = os.path.join(ctx.path.abspath(), "tools", "pictures.sh")
    out = os.path.join(ctx.path.abspath(), "docs", "pictures")
    if subprocess.run(["bash", script, render, out]).returncode:
        ctx.fatal("the pictures could not be drawn: see above")
    Logs.pprint("GREEN", "drew the pictures in %s" % out)


def pictures(ctx):
    build(ctx)
    ctx.add_post_fun(_draw_pictures)


PicturesContext.fun = "pictures"
