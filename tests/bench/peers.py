#!/usr/bin/env python3
"""Render hotpatch's "seed chain" in Pure Data and SuperCollider, measure cost.

The chain (48 kHz, mono, everything at audio rate):
    sine 440 Hz * 0.2  ->  * linear ADSR (10 ms, 50 ms, 0.7, 200 ms; gate held)
    ->  2nd-order Butterworth lowpass, 2000 Hz (RBJ cookbook / SC's LPF)
The "wide" graph sums N copies of that chain and scales the sum by 1/N, so
its output equals the seed chain's.  The voices (measure(notes=...)) are
one copy of the chain a note, each at its note's pitch, summed unscaled,
as a musician builds them: a Pd abstraction in [clone N], N synths of a
SynthDef with freq and gate controls in one scsynth group; their output
is checked note by note (analyse_voices).  The effects (measure_effect)
are scsynth's alone, beside hotpatch's delay and reverb: the seed's sine
into CombC (an echo) and DelayC, noise into FreeVerb2, and each one's
impulse response measured (effect_quality).

Per engine and graph this reports
  * instructions per output sample: callgrind collecting only inside the
    engine's render-one-block function, total Ir / samples rendered;
  * CPU ns per sample: user+sys of the child for a long and a short native
    render, difference / difference in samples (cancels startup and exit);
  * an output check: sample rate, length, RMS of the sustain, pitch.

scsynth is driven without sclang: the SynthDef (SCgf v2) and the NRT OSC
score are written here.  Standard library only.

    python3 tests/bench/peers.py [--chains 1 64] [--engines pd scsynth]
                                 [--json]
    python3 tests/bench/peers.py --effects [echo delay reverb] [--json]
"""

import argparse
import array
import cmath
import json
import math
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile

SR = 48000
BLOCK = 64                      # both engines' default block size
FREQ, AMP = 440.0, 0.2
ATTACK, DECAY, SUSTAIN, RELEASE = 0.010, 0.050, 0.7, 0.200
CUTOFF, Q = 2000.0, 0.7071


def rbj_lowpass(f0=CUTOFF, q=Q, sr=SR):
    """RBJ cookbook lowpass, normalised: (b0, b1, b2, a1, a2), a0 == 1."""
    w0 = 2 * math.pi * f0 / sr
    alpha = math.sin(w0) / (2 * q)
    cw, a0 = math.cos(w0), 1 + alpha
    return ((1 - cw) / 2 / a0, (1 - cw) / a0, (1 - cw) / 2 / a0,
            -2 * cw / a0, (1 - alpha) / a0)


def voice_amplitude(freq=FREQ):
    """Amplitude of the sustained chain's sine at `freq`: AMP * SUSTAIN *
    |H(freq)|."""
    b0, b1, b2, a1, a2 = rbj_lowpass()
    z = cmath.exp(-2j * math.pi * freq / SR)
    h = (b0 + b1 * z + b2 * z * z) / (1 + a1 * z + a2 * z * z)
    return AMP * SUSTAIN * abs(h)


def expected_rms():
    """RMS of the sustained output: AMP * SUSTAIN / sqrt(2) * |H(440 Hz)|."""
    return voice_amplitude() / math.sqrt(2)


# ---------------------------------------------------------------- Pure Data

def pd_patch(chains, seconds, wav):
    """A Pd patch rendering `chains` summed chains into `wav` for `seconds`.

    The amplitude 0.2 is folded into the [vline~] levels.  The sink is
    [tabwrite~] into a [table], saved by [soundfiler] (synchronously) just
    before `pd quit`.  Not writesf~: it opens and flushes its file from a
    helper thread, and in -batch mode no real time passes, so its "stop"
    overwrote the still pending "open" (no file at all), and `pd quit`
    exit()s without waiting for the flush anyway.
    """
    b0, b1, b2, a1, a2 = rbj_lowpass()
    # Pd's biquad~ adds its feedback terms: fb1 = -a1, fb2 = -a2.
    coefs = " ".join("%.9g" % c for c in (-a1, -a2, b0, b1, b2))
    lines, wires = ["#N canvas 0 50 800 600 12;"], []

    def obj(text, kind="obj"):
        lines.append("#X %s 10 %d %s;" % (kind, 10 + 20 * len(lines), text))
        return len(lines) - 2          # index of the object just added

    def wire(src, outlet, dst, inlet):
        wires.append("#X connect %d %d %d %d;" % (src, outlet, dst, inlet))

    obj("table out %d" % round(seconds * SR))
    bang, trig = obj("loadbang"), obj("t b b b b")
    wire(bang, 0, trig, 0)
    wire(trig, 3, obj(r"\; pd dsp 1", "msg"), 0)
    write = obj("tabwrite~ out")
    wire(trig, 2, write, 0)            # starts recording with the next block
    env = obj(r"%.9g %g \, %.9g %g %g" % (AMP, ATTACK * 1e3, AMP * SUSTAIN,
                                          DECAY * 1e3, ATTACK * 1e3), "msg")
    wire(trig, 1, env, 0)
    end = obj("delay %.9g" % (seconds * 1e3))
    wire(trig, 0, end, 0)
    save = obj(r"write -wave -bytes 4 %s out \; pd quit" % wav, "msg")
    wire(end, 0, save, 0)
    wire(save, 0, obj("soundfiler"), 0)
    if chains > 1:
        out = obj("*~ %.9g" % (1.0 / chains))
        wire(out, 0, write, 0)
    else:
        out = write
    for _ in range(chains):
        osc, vline = obj("osc~ %g" % FREQ), obj("vline~")
        mul, lop = obj("*~"), obj("biquad~ " + coefs)
        wire(env, 0, vline, 0)
        wire(osc, 0, mul, 0)
        wire(vline, 0, mul, 1)
        wire(mul, 0, lop, 0)
        wire(lop, 0, out, 0)        # a signal inlet sums its connections
    return "\n".join(lines + wires) + "\n"


def note_hz(note):
    """12-TET, A4 (note 69) = 440 Hz: what hotpatch's midi module plays."""
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


PD_VOICE = "hpvoice"              # the abstraction's file name, less .pd


def pd_voice_abstraction():
    """One voice of the seed chain as a Pd abstraction: its frequency
    comes in at its inlet, the envelope's messages by [r hpvoice-env], its
    sound goes out of an [outlet~] (clone sums the instances')."""
    b0, b1, b2, a1, a2 = rbj_lowpass()
    coefs = " ".join("%.9g" % c for c in (-a1, -a2, b0, b1, b2))
    lines, wires = ["#N canvas 0 50 400 300 12;"], []

    def obj(text):
        lines.append("#X obj 10 %d %s;" % (10 + 20 * len(lines), text))
        return len(lines) - 2

    inlet, osc = obj("inlet"), obj("osc~")
    env, vline = obj("r %s-env" % PD_VOICE), obj("vline~")
    mul, lop, out = obj("*~"), obj("biquad~ " + coefs), obj("outlet~")
    for src, outlet, dst, inl in ((inlet, 0, osc, 0), (env, 0, vline, 0),
                                  (osc, 0, mul, 0), (vline, 0, mul, 1),
                                  (mul, 0, lop, 0), (lop, 0, out, 0)):
        wires.append("#X connect %d %d %d %d;" % (src, outlet, dst, inl))
    return "\n".join(lines + wires) + "\n"


def pd_voices_patch(notes, seconds, wav):
    """A Pd patch rendering one voice a note, [clone -s 0 hpvoice N] (in
    Pd since 0.47; Debian 12 has 0.53.1), into `wav` for `seconds`.  Each instance gets its
    note's frequency by a message "k hz" to the clone (a list led by a
    number goes to instance k); the envelope's messages go to every
    instance by [s hpvoice-env].  Recording and saving as pd_patch()."""
    lines, wires = ["#N canvas 0 50 800 600 12;"], []

    def obj(text, kind="obj"):
        lines.append("#X %s 10 %d %s;" % (kind, 10 + 20 * len(lines), text))
        return len(lines) - 2

    def wire(src, outlet, dst, inlet):
        wires.append("#X connect %d %d %d %d;" % (src, outlet, dst, inlet))

    obj("table out %d" % round(seconds * SR))
    bang, trig = obj("loadbang"), obj("t b b b b b")
    wire(bang, 0, trig, 0)
    wire(trig, 4, obj(r"\; pd dsp 1", "msg"), 0)
    write = obj("tabwrite~ out")
    wire(trig, 3, write, 0)
    voices = obj("clone -s 0 %s %d" % (PD_VOICE, len(notes)))
    freqs = obj(r" \, ".join("%d %.9g" % (k, note_hz(n))
                             for k, n in enumerate(notes)), "msg")
    wire(trig, 2, freqs, 0)
    wire(freqs, 0, voices, 0)
    env = obj(r"%.9g %g \, %.9g %g %g" % (AMP, ATTACK * 1e3, AMP * SUSTAIN,
                                          DECAY * 1e3, ATTACK * 1e3), "msg")
    wire(trig, 1, env, 0)
    wire(env, 0, obj("s %s-env" % PD_VOICE), 0)
    end = obj("delay %.9g" % (seconds * 1e3))
    wire(trig, 0, end, 0)
    save = obj(r"write -wave -bytes 4 %s out \; pd quit" % wav, "msg")
    wire(end, 0, save, 0)
    wire(save, 0, obj("soundfiler"), 0)
    wire(voices, 0, write, 0)
    return "\n".join(lines + wires) + "\n"


# ------------------------------------------------------------ SuperCollider

AUDIO = 2                          # calculation rate: 0 scalar, 1 control


class SynthDef:
    """Minimal SCgf version 2 writer: constants plus a list of UGens."""

    def __init__(self, name, params=()):
        """params: (name, initial value) of each control, in order."""
        self.name, self.consts, self.ugens = name, [], []
        self.params = list(params)

    def _input(self, x):
        if isinstance(x, tuple):                 # (ugen index, output)
            return x
        x = float(x)
        if x not in self.consts:
            self.consts.append(x)
        return (-1, self.consts.index(x))

    def ugen(self, cls, inputs, outputs=1, special=0, rate=AUDIO):
        self.ugens.append((cls, rate, [self._input(i) for i in inputs],
                           outputs, special))
        return (len(self.ugens) - 1, 0)

    def encode(self):
        def pstr(s):
            return struct.pack(">B", len(s)) + s.encode()
        out = [b"SCgf", struct.pack(">ih", 2, 1), pstr(self.name),
               struct.pack(">i", len(self.consts)),
               struct.pack(">%df" % len(self.consts), *self.consts),
               struct.pack(">i", len(self.params)),
               struct.pack(">%df" % len(self.params),
                           *(v for _, v in self.params)),
               struct.pack(">i", len(self.params))]
        out += [pstr(n) + struct.pack(">i", i)
                for i, (n, _) in enumerate(self.params)]
        out += [
               struct.pack(">i", len(self.ugens))]
        for cls, rate, ins, nout, special in self.ugens:
            out += [pstr(cls), struct.pack(">biih", rate, len(ins), nout,
                                           special)]
            out += [struct.pack(">ii", *i) for i in ins]
            out += [struct.pack(">b", rate)] * nout
        out.append(struct.pack(">h", 0))                # no variants
        return b"".join(out)


def synthdef(chains):
    """What sclang would build from
        Out.ar(0, Mix.fill(N, {LPF.ar(SinOsc.ar(440, 0, 0.2)
            * EnvGen.ar(Env.adsr(0.01, 0.05, 0.7, 0.2, 1, \\lin)), 2000)})
            * (1/N))
    (no Mix and no scaling for N == 1).  Mix sums in Sum4 groups like
    sclang's Mix; chains are built lazily, depth first, so few wire buffers
    are live at once (scsynth has 64 by default)."""
    d = SynthDef("chain")
    MUL, ADD = 2, 0                       # BinaryOpUGen special indices
    # Env.adsr(..., curve: \lin) as EnvGen sees it: initial level, stages,
    # release node 2, loop node -99, then (level, time, shape 1=lin, curve).
    env = [0, 3, 2, -99, 1, ATTACK, 1, 0, SUSTAIN, DECAY, 1, 0,
           0, RELEASE, 1, 0]

    def chain():
        sine = d.ugen("SinOsc", [FREQ, 0])
        sine = d.ugen("BinaryOpUGen", [sine, AMP], special=MUL)
        # gate 1, levelScale 1, levelBias 0, timeScale 1, doneAction 0
        eg = d.ugen("EnvGen", [1, 1, 0, 1, 0] + env)
        return d.ugen("LPF", [d.ugen("BinaryOpUGen", [sine, eg],
                                     special=MUL), CUTOFF])

    def total(ins):
        if len(ins) == 4:
            return d.ugen("Sum4", ins)
        if len(ins) == 3:
            return d.ugen("Sum3", ins)
        acc = ins[0]
        for x in ins[1:]:
            acc = d.ugen("BinaryOpUGen", [acc, x], special=ADD)
        return acc

    def mix(makers):                      # makers: thunks returning a signal
        groups = [makers[i:i + 4] for i in range(0, len(makers), 4)]
        sums = [lambda g=g: total([m() for m in g]) for g in groups]
        if len(sums) < 4:
            return total([m() for m in sums])
        return mix(sums)

    if chains == 1:
        sig = chain()
    else:
        sig = d.ugen("BinaryOpUGen", [mix([chain] * chains), 1.0 / chains],
                     special=MUL)
    d.ugen("Out", [0, sig], outputs=0)
    return d.encode()


def synthdef_voice():
    """One voice of the seed chain, as sclang would build it from
        SynthDef(\\voice, {|freq = 440, gate = 1|
            Out.ar(0, LPF.ar(SinOsc.ar(freq, 0, 0.2) * EnvGen.ar(
                Env.adsr(0.01, 0.05, 0.7, 0.2, 1, \\lin), gate,
                doneAction: 2), 2000))})
    (its controls: one Control UGen at control rate, an output each)."""
    d = SynthDef("voice", [("freq", FREQ), ("gate", 1.0)])
    MUL = 2
    env = [0, 3, 2, -99, 1, ATTACK, 1, 0, SUSTAIN, DECAY, 1, 0,
           0, RELEASE, 1, 0]
    control = d.ugen("Control", [], outputs=2, rate=1)
    freq, gate = control, (control[0], 1)
    sine = d.ugen("BinaryOpUGen", [d.ugen("SinOsc", [freq, 0]), AMP],
                  special=MUL)
    # gate, levelScale 1, levelBias 0, timeScale 1, doneAction 2 (free)
    eg = d.ugen("EnvGen", [gate, 1, 0, 1, 2] + env)
    sig = d.ugen("LPF", [d.ugen("BinaryOpUGen", [sine, eg], special=MUL),
                         CUTOFF])
    d.ugen("Out", [0, sig], outputs=0)
    return d.encode()


def osc_message(address, *args):
    def pad(b):
        return b + b"\0" * (4 - len(b) % 4)      # always NUL-terminates
    tags, data = ",", b""
    for a in args:
        if isinstance(a, bytes):
            tags += "b"
            data += struct.pack(">i", len(a)) + a + b"\0" * (-len(a) % 4)
        elif isinstance(a, int):
            tags, data = tags + "i", data + struct.pack(">i", a)
        elif isinstance(a, float):
            tags, data = tags + "f", data + struct.pack(">f", a)
        else:
            tags, data = tags + "s", data + pad(a.encode())
    return pad(address.encode()) + pad(tags.encode()) + data


def nrt_score(defbytes, seconds, name="chain"):
    """NRT command file: size-prefixed OSC bundles, time tags in seconds
    * 2^32 from the start of the render.  The last bundle only marks the
    end: scsynth stops after the block containing it.  `name`: the
    SynthDef's, of which it plays one synth."""
    def bundle(t, *msgs):
        b = b"#bundle\0" + struct.pack(">Q", int(t * 2 ** 32))
        b += b"".join(struct.pack(">i", len(m)) + m for m in msgs)
        return struct.pack(">i", len(b)) + b
    return (bundle(0, osc_message("/d_recv", defbytes),
                   osc_message("/s_new", name, 1000, 0, 0))
            + bundle(seconds, osc_message("/c_set", 0, 0)))


def nrt_voices_score(notes, seconds, group=1):
    """NRT score of one `voice` synth a note, in a group (`group` 1, made
    at the head of the root group as sclang's default group is; 0: the
    root group itself), each with its note's frequency.  The group's
    calc runs inside the root group's, the per-block function callgrind
    toggles on; it is counted (group 1 and group 0 differ by 0.2
    instructions a sample, the group's own calc)."""
    def bundle(t, *msgs):
        b = b"#bundle\0" + struct.pack(">Q", int(t * 2 ** 32))
        b += b"".join(struct.pack(">i", len(m)) + m for m in msgs)
        return struct.pack(">i", len(b)) + b
    msgs = [osc_message("/d_recv", synthdef_voice())]
    if group:
        msgs.append(osc_message("/g_new", group, 0, 0))
    # addAction 1: to the group's tail, so they run in note order
    msgs += [osc_message("/s_new", "voice", 1000 + k, 1, group, "freq",
                         float(note_hz(n))) for k, n in enumerate(notes)]
    return bundle(0, *msgs) + bundle(seconds, osc_message("/c_set", 0, 0))


# ----------------------------------------------------------------- engines

def _pd_command(chains, seconds, wav, workdir, notes=None):
    """`chains` seed chains summed, or (`notes`) a voice a note."""
    if notes:
        with open(os.path.join(workdir, PD_VOICE + ".pd"), "w") as f:
            f.write(pd_voice_abstraction())
        patch = os.path.join(workdir, "voices%d-%g.pd" % (len(notes), seconds))
        text = pd_voices_patch(notes, seconds, os.path.basename(wav))
    else:
        patch = os.path.join(workdir, "chain%d-%g.pd" % (chains, seconds))
        text = pd_patch(chains, seconds, os.path.basename(wav))
    with open(patch, "w") as f:
        f.write(text)
    return ["pd", "-batch", "-nogui", "-noaudio", "-nomidi", "-noprefs",
            "-stderr", "-r", str(SR), "-open", patch]


def _sc_command(chains, seconds, wav, workdir, notes=None):
    """`chains` seed chains summed, or (`notes`) a voice synth a note."""
    if notes:
        score = os.path.join(workdir, "voices%d-%g.osc" % (len(notes), seconds))
        data = nrt_voices_score(notes, seconds, SC_GROUP)
    else:
        score = os.path.join(workdir, "chain%d-%g.osc" % (chains, seconds))
        data = nrt_score(synthdef(chains), seconds)
    with open(score, "wb") as f:
        f.write(data)
    # -D 0: load no synthdefs from disk; -i 0 -o 1: no inputs, mono out.
    return ["scsynth", "-D", "0", "-i", "0", "-o", "1", "-V", "-1",
            "-N", score, "_", wav, str(SR), "WAV", "float"]


SC_GROUP = 1

# toggle: the function that renders one block, called once per block,
# inclusive of all the DSP and nothing else.
#   Pd: dsp_tick.  Not sched_tick: that also runs the clock callbacks, and
#   the last one writes the sound file ([soundfiler]).
#   scsynth: World_Run, but it is hidden and inlined into the exported NRT
#   loop World_NonRealTimeSynthesis, where it is an indirect call to the
#   root group's calc function (Group_Calc), which callgrind names by its
#   address in the stripped library.  So "toggle" names the NRT loop and the
#   per-block function is looked up from a short run (_per_block_function).
#   Toggling on the whole NRT loop instead would add the output interleave
#   and libsndfile's writing (~16 instructions/sample more).
# Each figure includes the engine's sink: in Pd 0.53 [tabwrite~], ~9.5
# instructions/sample (it checks every sample for denormals); in scsynth
# Out.ar, ~1.
ENGINES = {
    "pd": {"version": ["pd", "-version"], "command": _pd_command,
           "toggle": "dsp_tick", "find_toggle": False},
    "scsynth": {"version": ["scsynth", "-v"], "command": _sc_command,
                "toggle": "World_NonRealTimeSynthesis", "find_toggle": True},
}


def _run(cmd, workdir):
    """Run cmd; return (exit code, user+sys CPU seconds of it, its output)."""
    log = os.path.join(workdir, "log.txt")
    with open(log, "w+") as out:
        p = subprocess.Popen(cmd, cwd=workdir, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=subprocess.STDOUT)
        # wait4: the rusage of exactly this child, threads included.
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return p.returncode, usage.ru_utime + usage.ru_stime, out.read()


def parse_callgrind(path):
    """Total Ir and the call arcs {(caller, callee): [calls, inclusive Ir]}
    of a callgrind output file (name compression "fn=(id) name" handled)."""
    names, arcs, total = {}, {}, None
    fn = cfn = calls = None
    with open(path) as f:
        for line in f:
            if line.startswith(("fn=", "cfn=")):
                key, _, val = line.rstrip("\n").partition("=")
                m = re.match(r"\((\d+)\)(?: (.*))?$", val)
                if m:
                    if m.group(2) is not None:
                        names[m.group(1)] = m.group(2)
                    val = names[m.group(1)]
                if key == "fn":
                    fn = val
                else:
                    cfn = val
            elif line.startswith("calls="):
                calls = int(line[6:].split()[0])
            elif calls is not None and line[:1] in "0123456789+-*":
                arc = arcs.setdefault((fn, cfn), [0, 0])  # the call's cost
                arc[0] += calls
                arc[1] += int(line.split()[1])
                calls = None
            elif line.startswith(("summary:", "totals:")):
                total = int(line.split()[1])       # totals: comes last
    return total, arcs


def _callgrind(cmd, toggle, workdir, tag):
    """Callgrind over `cmd`: inside `toggle` only, or (None) the whole
    process, every thread, from exec to exit."""
    out = os.path.join(workdir, "callgrind.%s" % tag)
    collect = ["--toggle-collect=" + toggle] if toggle else []
    code, _, log = _run(["valgrind", "--tool=callgrind",
                         "--callgrind-out-file=" + out] + collect + cmd,
                        workdir)
    if code != 0 or not os.path.exists(out):
        raise RuntimeError("callgrind failed (%d): %s" % (code, log[-500:]))
    return parse_callgrind(out)


_found_toggles = {}


def _per_block_function(engine, workdir):
    """The callee of the NRT loop called once per block (the most often,
    ties broken by cost): scsynth's root Group_Calc.  Found once from a
    0.5 s render, since it has no symbol name."""
    if engine not in _found_toggles:
        spec, seconds = ENGINES[engine], 0.5
        wav = os.path.join(workdir, "find.wav")
        _, arcs = _callgrind(spec["command"](1, seconds, wav, workdir),
                             spec["toggle"], workdir, "find")
        callees = [(c, ir, callee) for (caller, callee), (c, ir)
                   in arcs.items() if caller == spec["toggle"]]
        calls, _, name = max(callees)
        if abs(calls - seconds * SR / BLOCK) > 1:
            raise RuntimeError("no per-block function under %s (best: %s, "
                               "%d calls)" % (spec["toggle"], name, calls))
        _found_toggles[engine] = name
    return _found_toggles[engine]


# ------------------------------------------------------------------ output

def read_wav(path):
    """(sample rate, samples as array('f')) of a 32-bit float WAV, which
    every engine writes here and stdlib wave cannot read; of a stereo file
    (hotpatch-render's), the left channel."""
    rate, channels = read_wav_channels(path)
    return rate, channels[0]


def read_wav_channels(path):
    """(sample rate, [each channel's samples as array('f')]) of a mono or
    stereo 32-bit float WAV."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("%s: not a WAV file" % path)
    pos, fmt, raw = 12, None, None
    while pos + 8 <= len(data):
        cid = data[pos:pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            tag, nch, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
            if tag == 0xFFFE:                     # WAVE_FORMAT_EXTENSIBLE
                tag = struct.unpack_from("<H", body, 24)[0]
            fmt = (tag, nch, rate, bits)
        elif cid == b"data":
            raw = body
        pos += 8 + size + (size & 1)
    if fmt is None or raw is None:
        raise ValueError("%s: no fmt or data chunk" % path)
    tag, nch, rate, bits = fmt
    if (tag, bits) != (3, 32) or nch not in (1, 2):  # 3: IEEE float
        raise ValueError("%s: format %d, %d channels, %d bits; expected "
                         "mono or stereo 32-bit float" % (path, tag, nch, bits))
    samples = array.array("f")
    samples.frombytes(raw[:len(raw) - len(raw) % (4 * nch)])
    if sys.byteorder == "big":
        samples.byteswap()
    return rate, [samples[c::nch] for c in range(nch)]


def analyse(samples, rate):
    """RMS after 0.2 s (the sustain) and the pitch from positive-going zero
    crossings, linearly interpolated, over 1 s starting at 0.5 s."""
    sustain = samples[int(0.2 * rate):]
    rms = math.sqrt(sum(x * x for x in sustain) / max(len(sustain), 1))
    return rms, pitch(samples[int(0.5 * rate):int(1.5 * rate)], rate)


def pitch(window, rate):
    """Hz from the positive-going zero crossings of `window`, linearly
    interpolated (0 with fewer than two)."""
    ups = [i + window[i] / (window[i] - window[i + 1])
           for i in range(len(window) - 1) if window[i] < 0 <= window[i + 1]]
    return ((len(ups) - 1) * rate / (ups[-1] - ups[0])
            if len(ups) > 1 else 0.0)


def _tone(samples, rate, freq):
    """The Hann-windowed DTFT of `samples` at `freq`, scaled so a sine of
    amplitude A at `freq` gives A (its phase: the sine's at the window's
    centre, up to a constant of the window)."""
    n = len(samples)
    rot = cmath.exp(-2j * math.pi * freq / rate)
    z, acc, wsum = 1.0 + 0j, 0j, 0.0
    step = 2 * math.pi / (n - 1)
    for i, x in enumerate(samples):
        w = 0.5 - 0.5 * math.cos(step * i)
        acc += x * w * z
        wsum += w
        z *= rot
    return 2 * acc / wsum


def analyse_voices(samples, rate, notes, start=0.5, span=0.5):
    """The output of one voice a note held, measured note by note: each
    note's sine by a Hann-windowed DTFT at its exact frequency over two
    windows of `span` s from `start` s, its level from their mean
    magnitude, its pitch from the phase advance between them (unambiguous
    within 1/span Hz of the note).  Returns (RMS after 0.2 s, [(note, Hz
    expected, Hz measured, level, expected level)])."""
    sustain = samples[int(0.2 * rate):]
    rms = math.sqrt(sum(x * x for x in sustain) / max(len(sustain), 1))
    a0, n = int(start * rate), int(span * rate)
    one, two = samples[a0:a0 + n], samples[a0 + n:a0 + 2 * n]
    if len(two) < n:
        raise ValueError("%d samples: too short to analyse" % len(samples))
    peaks = []
    for note in notes:
        hz = note_hz(note)
        x1, x2 = _tone(one, rate, hz), _tone(two, rate, hz)
        turn = cmath.phase(x2 / x1) - 2 * math.pi * hz * span
        turn = (turn + math.pi) % (2 * math.pi) - math.pi
        peaks.append((note, hz, hz + turn / (2 * math.pi * span),
                      (abs(x1) + abs(x2)) / 2, voice_amplitude(hz)))
    return rms, peaks


def voices_check(rms, peaks):
    """Problems (a list of strings, empty when fine) of analyse_voices()'s
    figures: the RMS within 5% of the voices' (distinct sines add in
    power), every note's level within 5% and its pitch within 0.1 Hz."""
    want = math.sqrt(sum(a * a / 2 for *_, a in peaks))
    problems = []
    if not abs(rms / want - 1) < 0.05:
        problems.append("RMS %.4f, expected %.4f" % (rms, want))
    for note, hz, got, level, expected in peaks:
        if not abs(level / expected - 1) < 0.05:
            problems.append("note %d: level %.4f, expected %.4f"
                            % (note, level, expected))
        if not abs(got - hz) < 0.1:
            problems.append("note %d: %.3f Hz, expected %.3f"
                            % (note, got, hz))
    return problems


def _render(engine, chains, seconds, workdir, notes=None):
    """Render natively; return (CPU seconds, samples), checking rate/length."""
    wav = os.path.join(workdir, "out%d-%g.wav" % (chains, seconds))
    code, cpu, log = _run(ENGINES[engine]["command"](
        chains, seconds, wav, workdir, notes=notes), workdir)
    channels = _rendered(engine, code, log, wav, seconds)
    os.remove(wav)
    return cpu, channels[0]


def _rendered(engine, code, log, wav, seconds):
    """The channels of the file `wav` an engine's run (exit `code`, output
    `log`) wrote, checking its rate and length."""
    if code != 0 or not os.path.exists(wav):
        raise RuntimeError("%s failed (%d): %s" % (engine, code, log[-500:]))
    rate, channels = read_wav_channels(wav)
    want, got = round(seconds * SR), len(channels[0])
    # scsynth also renders the block holding the end marker.
    if rate != SR or not want <= got <= want + BLOCK:
        raise RuntimeError("%s rendered %d samples at %d Hz, expected %d at "
                           "%d Hz" % (engine, got, rate, want, SR))
    return channels


# ----------------------------------------------------------------- measure

def _version(engine):
    try:
        out = subprocess.run(ENGINES[engine]["version"], capture_output=True,
                             text=True, timeout=30)
        return (out.stdout + out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return None


def measure(engine, chains, *, callgrind_seconds=2, cpu_seconds=(5, 25),
            repeats=5, workdir=None, notes=None):
    """Measure one engine rendering `chains` summed seed chains, or with
    `notes`, one voice of the seed chain a note (each at its note's
    pitch; their output checked note by note: "peaks", analyse_voices()).
    Never raises for a failed run: ok is False and error says why.  Files
    go in a temporary directory (inside workdir if given) removed at the
    end."""
    result = {"engine": engine, "version": None, "chains": chains,
              "notes": list(notes or []), "peaks": None,
              "instr_per_sample": None, "blocks_counted": None,
              "ns_per_sample": None, "ns_samples": [], "rms": None,
              "pitch_hz": None, "ok": False, "error": None, "toggle": None}
    if engine not in ENGINES:
        result["error"] = "unknown engine %r" % engine
        return result
    for tool in (ENGINES[engine]["version"][0], "valgrind"):
        if shutil.which(tool) is None:
            result["error"] = "%s not found (install it: see ./setup)" % tool
            return result
    result["version"] = _version(engine)
    try:
        with tempfile.TemporaryDirectory(dir=workdir,
                                         prefix="peers-%s-" % engine) as tmp:
            _measure(result, engine, chains, callgrind_seconds, cpu_seconds,
                     repeats, tmp, notes)
    except Exception as e:           # report, don't raise: see the docstring
        result["error"] = "%s: %s" % (type(e).__name__, e)
    return result


def _measure(result, engine, chains, cg_seconds, cpu_seconds, repeats, tmp,
             notes):
    spec = ENGINES[engine]
    # 1. Instructions: collect only inside the per-block function.
    toggle = (_per_block_function(engine, tmp) if spec["find_toggle"]
              else spec["toggle"])
    result["toggle"] = toggle
    wav = os.path.join(tmp, "cg.wav")
    total, arcs = _callgrind(spec["command"](chains, cg_seconds, wav, tmp,
                                             notes=notes),
                             toggle, tmp, "%d-%d" % (chains, len(notes or [])))
    blocks = sum(c for (_, callee), (c, _) in arcs.items() if callee == toggle)
    result["blocks_counted"] = blocks
    if not blocks or abs(blocks - cg_seconds * SR / BLOCK) > 1:
        raise RuntimeError("%s called %d times, expected %d blocks"
                           % (toggle, blocks, cg_seconds * SR / BLOCK))
    result["instr_per_sample"] = total / (blocks * BLOCK)

    # 2. CPU time: the long minus the short render cancels startup and exit;
    # each repeat renders both back to back so they share the VM's mood.
    short, long_ = cpu_seconds
    for _ in range(max(1, repeats)):
        cpu_short, samples = _render(engine, chains, short, tmp, notes)
        cpu_long, _ = _render(engine, chains, long_, tmp, notes)
        result["ns_samples"].append((cpu_long - cpu_short) * 1e9
                                    / ((long_ - short) * SR))
    result["ns_per_sample"] = statistics.median(result["ns_samples"])

    # 3. Output check on the last short render.
    if notes:
        rms, result["peaks"] = analyse_voices(samples, SR, notes)
        result["rms"] = rms
        problems = voices_check(rms, result["peaks"])
        result["error"] = "; ".join(problems) or None
        result["ok"] = not problems
        return
    rms, pitch = analyse(samples, SR)
    result["rms"], result["pitch_hz"] = rms, pitch
    problems = []
    if not (rms > 0.01 and abs(rms / expected_rms() - 1) < 0.05):
        problems.append("RMS %.4f, expected %.4f" % (rms, expected_rms()))
    if abs(pitch - FREQ) > 0.5:
        problems.append("pitch %.2f Hz, expected %g" % (pitch, FREQ))
    result["error"] = "; ".join(problems) or None
    result["ok"] = not problems


# ---------------------------------------------------------- whole process

def marginal_instructions(render, seconds=(2, 12), workdir=None):
    """Instructions a sample of a whole process rendering to a file:
    callgrind over every thread from exec to exit, for a short and a long
    render; the difference over the extra samples, so start-up and exit
    cancel.  render(seconds, wav, workdir) gives the command that writes
    `wav`; each file's length is checked.  Returns (instructions a sample,
    the long render's samples)."""
    totals = []
    with tempfile.TemporaryDirectory(dir=workdir, prefix="whole-") as tmp:
        for secs in seconds:
            wav = os.path.join(tmp, "whole-%g.wav" % secs)
            total, _ = _callgrind(render(secs, wav, tmp), None, tmp,
                                  "whole-%g" % secs)
            rate, samples = read_wav(wav)
            want = round(secs * SR)
            if rate != SR or not want <= len(samples) <= want + BLOCK:
                raise RuntimeError("%d samples at %d Hz, expected %d at %d Hz"
                                   % (len(samples), rate, want, SR))
            totals.append(total)
    return (totals[1] - totals[0]) / ((seconds[1] - seconds[0]) * SR), samples


def measure_whole_process(engine, chains=1, workdir=None):
    """An engine's whole process rendering `chains` seed chains to a file,
    in instructions a sample (marginal_instructions).  Never raises: ok is
    False and error says why."""
    result = {"engine": engine, "instr_per_sample": None, "ok": False,
              "error": None}
    try:
        command = ENGINES[engine]["command"]
        result["instr_per_sample"], _ = marginal_instructions(
            lambda secs, wav, tmp: command(chains, secs, wav, tmp),
            workdir=workdir)
        result["ok"] = True
    except Exception as e:           # report, don't raise: see the docstring
        result["error"] = "%s: %s" % (type(e).__name__, e)
    return result


# ----------------------------------------------------------------- effects
#
# Effects beside hotpatch's (hp_bench effects renders the same): an echo,
# the seed's sine into a feedback delay of 300 ms (CombC, feedback 0.5 an
# echo), mixed half and half with the dry; the plain delay (DelayC, no
# feedback), mixed alike; a reverb, white noise at the sine's gain into
# FreeVerb2 (mix 0.33, room 0.5, damp 0.5).  Each also renders a unit
# impulse, measured by effect_quality().

ECHO_DELAY, ECHO_FEEDBACK, ECHO_MIX, ECHO_MAX = 0.3, 0.5, 0.5, 4.0
VERB_MIX, VERB_ROOM, VERB_DAMP = 0.33, 0.5, 0.5
EFFECTS = {"echo": "CombC", "delay": "DelayC", "reverb": "FreeVerb2"}
# FreeVerb2's RT60 at those settings, as measured here with scsynth 3.13.0:
# where hotpatch's reverb starts when scsynth is not installed.
FREEVERB2_RT60 = 1.067
# The impulse responses: the echo's dry and 4 echoes; the reverb's tail
# well below the -35 dB its RT60 fit reaches.
RESPONSE_SECONDS = {"echo": 1.3, "delay": 1.3, "reverb": 3.0}
ECHOES = {"echo": 4, "delay": 1}


def comb_decay_time(delay=ECHO_DELAY, feedback=ECHO_FEEDBACK):
    """CombC's decaytime for `feedback` an echo: its coefficient is
    0.001^(delaytime / decaytime), a 60 dB fall in decaytime."""
    return delay * math.log(0.001) / math.log(feedback)


def synthdef_effect(effect, source):
    """What sclang would build from
        echo:   Out.ar(0, (x + CombC.ar(x, 4, 0.3, comb_decay_time())) * 0.5)
        delay:  Out.ar(0, (x + DelayC.ar(x, 4, 0.3)) * 0.5)
        reverb: Out.ar(0, FreeVerb2.ar(x, x, 0.33, 0.5, 0.5))
    (x * (1 - mix) + wet * mix at ECHO_MIX 0.5) with x SinOsc.ar(440, 0,
    0.2) (`source` "sine"), WhiteNoise.ar(0.2) ("noise") or Impulse.ar(0)
    ("impulse": a 1 at frame 0, and at frequency 0 never again)."""
    MUL, ADD = 2, 0
    d = SynthDef("effect")
    if source == "impulse":
        x = d.ugen("Impulse", [0, 0])
    else:
        osc = (d.ugen("SinOsc", [FREQ, 0]) if source == "sine"
               else d.ugen("WhiteNoise", []))
        x = d.ugen("BinaryOpUGen", [osc, AMP], special=MUL)
    if effect == "reverb":
        verb = d.ugen("FreeVerb2", [x, x, VERB_MIX, VERB_ROOM, VERB_DAMP],
                      outputs=2)
        d.ugen("Out", [0, verb, (verb[0], 1)], outputs=0)
        return d.encode()
    if effect == "echo":
        wet = d.ugen("CombC", [x, ECHO_MAX, ECHO_DELAY, comb_decay_time()])
    else:
        wet = d.ugen("DelayC", [x, ECHO_MAX, ECHO_DELAY])
    mixed = d.ugen("BinaryOpUGen", [x, wet], special=ADD)
    d.ugen("Out", [0, d.ugen("BinaryOpUGen", [mixed, ECHO_MIX], special=MUL)],
           outputs=0)
    return d.encode()


def _sc_effect_command(effect, source, seconds, wav, workdir):
    """scsynth rendering `effect` on `source` (synthdef_effect()) into
    `wav`: mono, the reverb stereo."""
    score = os.path.join(workdir, "%s-%s-%g.osc" % (effect, source, seconds))
    with open(score, "wb") as f:
        f.write(nrt_score(synthdef_effect(effect, source), seconds, "effect"))
    outs = "2" if effect == "reverb" else "1"
    return ["scsynth", "-D", "0", "-i", "0", "-o", outs, "-V", "-1",
            "-N", score, "_", wav, str(SR), "WAV", "float"]


def effect_expected_rms(effect):
    """An effect's settled output RMS on its source.  The echoes of 440 Hz
    come back in phase (132 whole cycles in 300 ms), so the echo's
    amplitude is the sine's times (1 - mix) + mix / (1 - feedback), the
    plain delay's (1 - mix) + mix; the reverb's is about the noise's
    (uniform: AMP / sqrt 3)."""
    if effect == "reverb":
        return AMP / math.sqrt(3)
    feedback = ECHO_FEEDBACK if effect == "echo" else 0.0
    return AMP * (1 - ECHO_MIX + ECHO_MIX / (1 - feedback)) / math.sqrt(2)


def effect_check(effect, samples, rate=SR):
    """(RMS, pitch, problems) of an effect's output on its source, over
    its last second, past ten echoes: the RMS within 2% of
    effect_expected_rms() and the pitch within 0.5 Hz of 440; the
    reverb's RMS within a factor of 2 (no pitch)."""
    tail = samples[-rate:]
    rms = math.sqrt(sum(x * x for x in tail) / len(tail))
    want = effect_expected_rms(effect)
    if effect == "reverb":
        hz = None
        ok = want / 2 < rms < want * 2
    else:
        hz = pitch(tail, rate)
        ok = abs(rms / want - 1) < 0.02 and abs(hz - FREQ) < 0.5
    problems = [] if ok else ["RMS %.4f (expected %.4f), pitch %s Hz" % (
        rms, want, "-" if hz is None else "%.2f" % hz)]
    return rms, hz, problems


def echo_quality(samples, rate, feedback, count):
    """The dry and `count` echoes of an echo's impulse response, each
    [k, time error (frames), level error (dB)], k = 0 the dry.  An echo's
    time is the first moment of the frames within 4 of where it is due
    (an interpolated read spreads it over a few: the moment is its delay
    at low frequencies), its level their sum (its gain there); due: k *
    300 ms, at (1 - mix) for the dry and mix * feedback^(k - 1) after.
    Also the largest sample outside those windows ("stray")."""
    echoes, taken = [], set()
    for k in range(count + 1):
        due = round(k * ECHO_DELAY * rate)
        frames = range(max(0, due - 4), due + 5)
        taken.update(frames)
        level = sum(samples[i] for i in frames)
        want = 1 - ECHO_MIX if k == 0 else ECHO_MIX * feedback ** (k - 1)
        if abs(level) < 1e-9 * want:             # missing: as far off as can be
            echoes.append([k, math.inf, -math.inf])
            continue
        moment = sum(i * samples[i] for i in frames) / level
        echoes.append([k, moment - k * ECHO_DELAY * rate,
                       20 * math.log10(abs(level) / want)])
    stray = max(abs(x) for i, x in enumerate(samples) if i not in taken)
    return echoes, stray


def rt60(left, right, rate):
    """RT60 (s) from the Schroeder backward integral of left^2 + right^2:
    a least-squares line through its -5..-35 dB part (T30), extrapolated
    to 60 dB (as tests/test_dsp_reverb.c measures)."""
    energy, acc = [0.0] * len(left), 0.0
    for i in range(len(left) - 1, -1, -1):
        acc += left[i] * left[i] + right[i] * right[i]
        energy[i] = acc
    points = [(i / rate, 10 * math.log10(e / energy[0]))
              for i, e in enumerate(energy) if e > 0]
    points = [(t, db) for t, db in points if -35 <= db <= -5]
    n = len(points)
    if n < 10:
        raise ValueError("the decay does not reach -35 dB")
    sx = sum(t for t, _ in points)
    sy = sum(db for _, db in points)
    sxx = sum(t * t for t, _ in points)
    sxy = sum(t * db for t, db in points)
    return -60 / ((n * sxy - sx * sy) / (n * sxx - sx * sx))


def echo_density(x, start, n):
    """Abel and Huang's echo density of x[start:start + n]: the fraction of
    its frames beyond its RMS, over a Gaussian's (erfc(1 / sqrt 2), 0.317):
    1 is a diffuse tail, less is sparse echoes."""
    window = x[start:start + n]
    rms = math.sqrt(sum(v * v for v in window) / n)
    return (sum(1 for v in window if abs(v) > rms) / n
            / math.erfc(1 / math.sqrt(2)))


def correlation(a, b):
    """Correlation coefficient of a and b."""
    ab = sum(x * y for x, y in zip(a, b))
    aa, bb = sum(x * x for x in a), sum(y * y for y in b)
    return ab / math.sqrt(aa * bb)


def reverb_quality(left, right, rate, mix=VERB_MIX):
    """A reverb's impulse response at `mix`, its dry impulse (1 - mix at
    frame 0) taken out: RT60, the left side's echo density in 20 ms
    windows centred every 20 ms over 100..500 ms (mean and least), and
    the left/right correlation of the tail, 50..1000 ms (as
    tests/test_dsp_reverb.c measures)."""
    left, right = list(left), list(right)
    left[0] -= 1 - mix
    right[0] -= 1 - mix
    ms = rate // 1000
    density = [echo_density(left, (at - 10) * ms, 20 * ms)
               for at in range(100, 501, 20)]
    return {"rt60": rt60(left, right, rate),
            "density_mean": sum(density) / len(density),
            "density_least": min(density),
            "correlation": correlation(left[50 * ms:1000 * ms],
                                       right[50 * ms:1000 * ms])}


def effect_quality(effect, wav):
    """The figures of an effect's impulse response in `wav` (either
    engine's: the first RESPONSE_SECONDS of it), and its problems: the
    echoes' times must be within 0.01 frame, their levels within 0.01 dB,
    and nothing else above 1e-4 (echo_quality()); the reverb's figures are
    judged against FreeVerb2's by the report (reverb_quality())."""
    rate, channels = read_wav_channels(wav)
    n = round(RESPONSE_SECONDS[effect] * rate)
    if rate != SR or len(channels[0]) < n:
        raise ValueError("%s: %d frames at %d Hz, expected %d at %d Hz"
                         % (wav, len(channels[0]), rate, n, SR))
    channels = [c[:n] for c in channels]
    if effect == "reverb":
        if len(channels) != 2:
            raise ValueError("%s: the reverb's response is not stereo" % wav)
        quality = reverb_quality(channels[0], channels[1], rate)
        quality["problems"] = []
        return quality
    feedback = ECHO_FEEDBACK if effect == "echo" else 0.0
    echoes, stray = echo_quality(channels[0], rate, feedback, ECHOES[effect])
    quality = {"echoes": echoes, "stray": stray,
               "time_error": max(abs(e[1]) for e in echoes),
               "level_error_db": max(abs(e[2]) for e in echoes),
               "problems": []}
    if quality["time_error"] > 0.01 or quality["level_error_db"] > 0.01:
        quality["problems"].append(
            "echoes off by up to %.4f frames and %.4f dB" % (
                quality["time_error"], quality["level_error_db"]))
    if stray > 1e-4:
        quality["problems"].append("%.2g outside the echoes" % stray)
    return quality


def measure_effect(effect, *, callgrind_seconds=(6, 8), cpu_seconds=(6, 106),
                   repeats=5, workdir=None):
    """scsynth rendering `effect` (EFFECTS) on its source (the seed's sine;
    noise into the reverb): instructions a sample inside the per-block
    graph calc, the difference of two renders (`callgrind_seconds`) past
    the delays' first fill (SC's delay lines run a slower "_z" variant
    until their buffer has been written once: 4 s rounds up to 2^18
    frames, 5.5 s), and of those the effect's unit generator's own
    ("effect_instr": the graph's costliest callee); CPU ns a sample, a
    long less a short render, median of `repeats` (100 s apart: an echo's
    takes scsynth 30 ms, where its start-up swings by 20); the output checked
    (effect_check()) and the impulse response measured (effect_quality()).
    Never raises: ok is False and error says why."""
    result = {"engine": "scsynth", "effect": effect, "ugen": EFFECTS[effect],
              "version": None, "instr_per_sample": None,
              "effect_instr": None, "ns_per_sample": None, "ns_samples": [],
              "rms": None, "pitch_hz": None, "quality": None, "ok": False,
              "error": None}
    for tool in ("scsynth", "valgrind"):
        if shutil.which(tool) is None:
            result["error"] = "%s not found (install it: see ./setup)" % tool
            return result
    result["version"] = _version("scsynth")
    try:
        with tempfile.TemporaryDirectory(dir=workdir,
                                         prefix="peers-%s-" % effect) as tmp:
            _measure_effect(result, effect, callgrind_seconds, cpu_seconds,
                            repeats, tmp)
    except Exception as e:           # report, don't raise: see the docstring
        result["error"] = "%s: %s" % (type(e).__name__, e)
    return result


def _callees(arcs, caller):
    """{callee: inclusive instructions} of `caller`'s calls."""
    return {callee: ir for (c, callee), (_, ir) in arcs.items()
            if c == caller and callee != caller}


def _measure_effect(result, effect, cg_seconds, cpu_seconds, repeats, tmp):
    source = "noise" if effect == "reverb" else "sine"
    toggle = _per_block_function("scsynth", tmp)
    runs = []
    for secs in cg_seconds:
        wav = os.path.join(tmp, "cg.wav")
        total, arcs = _callgrind(
            _sc_effect_command(effect, source, secs, wav, tmp), toggle, tmp,
            "%s-%g" % (effect, secs))
        blocks = sum(c for (_, callee), (c, _) in arcs.items()
                     if callee == toggle)
        if abs(blocks - secs * SR / BLOCK) > 1:
            raise RuntimeError("%s called %d times in %g s, expected %d "
                               "blocks" % (toggle, blocks, secs,
                                           secs * SR / BLOCK))
        runs.append((total, blocks, arcs))
    (total0, blocks0, arcs0), (total1, blocks1, arcs1) = runs
    samples = (blocks1 - blocks0) * BLOCK
    result["instr_per_sample"] = (total1 - total0) / samples
    graphs = _callees(arcs1, toggle)
    if graphs:
        graph = max(graphs, key=graphs.get)
        before = _callees(arcs0, graph)
        ugens = [ir - before.get(callee, 0)
                 for callee, ir in _callees(arcs1, graph).items()]
        result["effect_instr"] = max(ugens) / samples if ugens else None

    short, long_ = cpu_seconds
    for _ in range(max(1, repeats)):
        cpu = []
        for secs in cpu_seconds:
            wav = os.path.join(tmp, "cpu-%g.wav" % secs)
            code, t, log = _run(
                _sc_effect_command(effect, source, secs, wav, tmp), tmp)
            channels = _rendered("scsynth", code, log, wav, secs)
            cpu.append(t)
        result["ns_samples"].append((cpu[1] - cpu[0]) * 1e9
                                    / ((long_ - short) * SR))
    result["ns_per_sample"] = statistics.median(result["ns_samples"])
    # The output check on the last long render.
    result["rms"], result["pitch_hz"], problems = effect_check(
        effect, channels[0][:round(long_ * SR)])

    wav = os.path.join(tmp, "response.wav")
    secs = RESPONSE_SECONDS[effect]
    code, _, log = _run(_sc_effect_command(effect, "impulse", secs, wav, tmp),
                        tmp)
    _rendered("scsynth", code, log, wav, secs)
    result["quality"] = effect_quality(effect, wav)
    problems += result["quality"]["problems"]
    result["error"] = "; ".join(problems) or None
    result["ok"] = not problems


# --------------------------------------------------------------------- CLI

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chains", type=int, nargs="+", default=[1, 64])
    ap.add_argument("--engines", nargs="+", default=list(ENGINES),
                    choices=list(ENGINES))
    ap.add_argument("--json", action="store_true", help="JSON lines")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--callgrind-seconds", type=float, default=2)
    ap.add_argument("--cpu-seconds", type=float, nargs=2, default=(5, 25))
    ap.add_argument("--effects", nargs="*", choices=list(EFFECTS),
                    help="measure these effects in scsynth instead (none "
                         "named: all)")
    args = ap.parse_args(argv)
    if args.effects is not None:
        return effects_main(args.effects or list(EFFECTS), args.json)

    results = []
    with tempfile.TemporaryDirectory(prefix="peers-") as workdir:
        for engine in args.engines:
            for chains in args.chains:
                r = measure(engine, chains, workdir=workdir,
                            repeats=args.repeats,
                            callgrind_seconds=args.callgrind_seconds,
                            cpu_seconds=tuple(args.cpu_seconds))
                # The wide graph's output must match the seed chain's.
                seed = [x["rms"] for x in results if x["engine"] == engine
                        and x["chains"] == 1 and x["rms"]]
                if r["rms"] and seed and abs(r["rms"] / seed[0] - 1) >= 0.05:
                    r["ok"] = False
                    why = "RMS %.4f differs from 1 chain's %.4f" % (
                        r["rms"], seed[0])
                    r["error"] = "; ".join(filter(None, [r["error"], why]))
                results.append(r)
                if args.json:
                    print(json.dumps(r), flush=True)

    if not args.json:
        for engine in args.engines:
            print("%s: %s" % (engine, next(r["version"] for r in results
                                           if r["engine"] == engine)))
        print("\n| engine | graph | instr/sample | ns/sample (median) | RMS "
              "| pitch (Hz) | check |\n|---|---|---:|---:|---:|---:|---|")
        for r in results:
            graph = "seed" if r["chains"] == 1 else "wide %d" % r["chains"]
            cells = [r["engine"], graph] + [
                "-" if r[k] is None else f % r[k] for k, f in (
                    ("instr_per_sample", "%.1f"), ("ns_per_sample", "%.1f"),
                    ("rms", "%.4f"), ("pitch_hz", "%.2f"))]
            cells.append("ok" if r["ok"] else "FAIL: %s" % r["error"])
            print("| " + " | ".join(cells) + " |")
    return 0 if all(r["ok"] for r in results) else 1


def effects_main(effects, as_json):
    """`--effects`: each effect in scsynth, as JSON lines or a table."""
    results = [measure_effect(effect) for effect in effects]
    if as_json:
        for r in results:
            print(json.dumps(r))
    else:
        print("scsynth: %s\n" % results[0]["version"])
        print("| effect | instr/sample | the UGen's own | ns/sample | RMS "
              "| quality | check |\n|---|---:|---:|---:|---:|---|---|")
        for r in results:
            q = r["quality"] or {}
            if "rt60" in q:
                quality = ("RT60 %.3f s, echo density %.3f (least %.3f), "
                           "L/R correlation %+.3f" % (
                               q["rt60"], q["density_mean"],
                               q["density_least"], q["correlation"]))
            elif q:
                quality = "echoes within %.4f frames, %.4f dB" % (
                    q["time_error"], q["level_error_db"])
            else:
                quality = "-"
            cells = [r["effect"] + " (" + r["ugen"] + ")"] + [
                "-" if r[k] is None else "%.1f" % r[k]
                for k in ("instr_per_sample", "effect_instr",
                          "ns_per_sample")]
            cells += ["-" if r["rms"] is None else "%.4f" % r["rms"],
                      quality, "ok" if r["ok"] else "FAIL: %s" % r["error"]]
            print("| " + " | ".join(cells) + " |")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
