#!/usr/bin/env python3
"""promparse - a strict parser of the Prometheus text exposition format 0.0.4.

Reads the text on stdin; exits 1 naming the first line that breaks the format, else prints
"ok <families> <samples>" and, with --need NAME..., checks that each family is present.
Checks: every line is "# HELP", "# TYPE" or a sample; names and label names are valid; label
values are quoted with only \\\\, \\" and \\n escapes; values are floats (or +Inf/-Inf/NaN);
each family has at most one TYPE, given before its samples; samples of a family are
contiguous; no sample repeats; histogram buckets have le labels, rise monotonically, end at
+Inf and equal _count; counters are not negative.
"""
import math
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r'^(' + NAME + r')(\{(' + LABEL + '=' + VALUE + r'(?:,' + LABEL + '=' +
                    VALUE + r')*,?)?\})? (\S+)(?: (-?\d+))?$')
LABELS = re.compile('(' + LABEL + ')=(' + VALUE + ')')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


def die(n, line, why):
    print(f'line {n}: {why}: {line!r}')
    sys.exit(1)


def family_of(name, types):
    for suf in ('_bucket', '_sum', '_count'):
        if name.endswith(suf) and types.get(name[:-len(suf)]) in ('histogram', 'summary'):
            return name[:-len(suf)]
    return name


def main():
    text = sys.stdin.read()
    if text and not text.endswith('\n'):
        die(0, text[-40:], 'no final newline')
    types, helps, seen, done = {}, set(), set(), set()
    current = None
    hist = {}
    samples = 0
    for n, line in enumerate(text.split('\n')[:-1], 1):
        if line.startswith('#'):
            m = re.match(r'^# (HELP|TYPE) (' + NAME + r') (.*)$', line)
            if not m:
                if line.startswith('# HELP') or line.startswith('# TYPE'):
                    die(n, line, 'malformed HELP/TYPE')
                continue
            kind, name, rest = m.groups()
            if kind == 'TYPE':
                if rest not in TYPES:
                    die(n, line, 'unknown type')
                if name in types:
                    die(n, line, 'second TYPE')
                if name in done or name == current:
                    die(n, line, 'TYPE after samples')
                types[name] = rest
            else:
                if name in helps:
                    die(n, line, 'second HELP')
                helps.add(name)
            continue
        if line == '':
            die(n, line, 'empty line')
        m = SAMPLE.match(line)
        if not m:
            die(n, line, 'not a sample')
        name, _, labeltext, value, _ = m.groups()
        try:
            v = float(value)
        except ValueError:
            die(n, line, 'value is not a float')
        labels = tuple(LABELS.findall(labeltext or ''))
        if len({k for k, _ in labels}) != len(labels):
            die(n, line, 'repeated label')
        fam = family_of(name, types)
        if fam != current:
            if fam in done:
                die(n, line, 'family samples not contiguous')
            if current:
                done.add(current)
            current = fam
        key = (name, labels)
        if key in seen:
            die(n, line, 'repeated sample')
        seen.add(key)
        samples += 1
        t = types.get(fam, 'untyped')
        if t == 'counter' and (v < 0 or math.isnan(v)):
            die(n, line, 'negative counter')
        if t == 'histogram':
            h = hist.setdefault(fam, {'le': [], 'count': None})
            if name.endswith('_bucket'):
                le = dict(labels).get('le')
                if le is None:
                    die(n, line, 'bucket without le')
                h['le'].append((float(le.strip('"')), v))
            elif name.endswith('_count'):
                h['count'] = v
    for fam, h in hist.items():
        les = h['le']
        if not les or les[-1][0] != math.inf:
            die(0, fam, 'histogram does not end at +Inf')
        if any(b[0] <= a[0] or b[1] < a[1] for a, b in zip(les, les[1:])):
            die(0, fam, 'histogram buckets not increasing')
        if h['count'] != les[-1][1]:
            die(0, fam, '_count differs from the +Inf bucket')
    names = {family_of(k[0], types) for k in seen}
    if len(sys.argv) > 2 and sys.argv[1] == '--need':
        for want in sys.argv[2:]:
            if want not in names:
                print(f'missing family {want}')
                sys.exit(1)
    print(f'ok {len(names)} {samples}')


main()
