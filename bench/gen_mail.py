#!/usr/bin/env python3
"""gen_mail.py - a deterministic mbox of N distinct messages made from the test corpus.

usage: python3 bench/gen_mail.py [--seed S] [--jp-every K] CORPUS N OUT.mbox

Used by bench/search.sh (issue 4) to load an archive of about a million messages. The
corpus is ../shared/corpus (or $VELLUM_CORPUS); nothing of it is copied into the project, and
the mbox is written to a scratch folder.

How the messages are made, exactly:

- Sources. The 4,139 Enron messages of enron-skilling-j/maildir-skilling-j (one message per
  file, sorted by path) and the 33 distinct Japanese messages of jpmobile-japanese-mobile
  (*.eml sorted by path, byte-identical duplicates dropped: ISO-2022-JP, Shift_JIS, UTF-8,
  some with CRLF line endings and attachments).
- Order. Message i (0-based) is the next Japanese message, in a cycle, when i % K == K - 1
  (K = --jp-every, default 200, i.e. 0.5% of the archive, so a CJK query has some hits but
  does not dominate); otherwise it is the next Enron message, in a cycle. At N = 1,000,000
  each Enron message appears about 241 times and each Japanese one about 152 times.
- What changes per copy: only two header fields, rewritten in place (or added at the top when
  the source has none; folded continuation lines of the old field are dropped):
    Message-ID: <I.S.JavaMail.bench@vellum.invalid>   I = the message number, S = the seed:
                unique, so every message is distinct content and content addressing does
                not deduplicate the copies.
    Date:       a time drawn uniformly from 1999-01-01T00:00:00Z to 2002-12-31T23:59:59Z
                by random.Random(S), written in RFC 5322 form at -0800 for Enron messages
                (their own zone) and +0900 for the Japanese ones.
  Every other header (From, To, Cc, Subject, X-*) and the body are the source's bytes, so
  address queries and word frequencies keep the real mailbox's proportions (one sender,
  sherri.sera@enron.com, wrote about 16% of the Enron messages).
- Line endings are kept (LF, or CRLF for the sources that use it); a message that does not end
  with a newline gets one. A leading mbox "From " line of a source is dropped.
- mbox framing (mboxrd): each message starts with "From MAILER-DAEMON <asctime of its Date,
  UTC>", a line of the message matching ^>*From  gets one more ">" (22 Enron messages have
  such lines), and a blank line follows each message. A reader that does not unescape keeps
  the extra ">" in those messages' bodies.

The same (corpus, N, seed, K) always gives the same bytes. Prints one summary line to stderr.
"""
import os
import random
import re
import sys
import time

DATE_LO = 915148800  # 1999-01-01T00:00:00Z
DATE_HI = 1041379200  # 2003-01-01T00:00:00Z (exclusive)
ENRON_TZ = -8 * 3600
JP_TZ = 9 * 3600
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FROM_LINE = re.compile(rb"^(>*From )", re.M)
DROP = re.compile(rb"(?i)^(message-id|date)[ \t]*:")


def source(raw):
    """Split one source message into (header lines without Message-ID and Date, index where
    they were, escaped body including the blank line, end-of-line bytes)."""
    if raw.startswith(b"From "):
        raw = raw[raw.index(b"\n") + 1:]
    eol = b"\r\n" if b"\r\n" in raw[:2000] else b"\n"
    if not raw.endswith(b"\n"):
        raw += eol
    cut = raw.find(eol + eol)
    head, body = (raw[:cut + len(eol)], raw[cut + len(eol):]) if cut >= 0 else (raw, b"")
    lines = head.split(eol)[:-1]
    kept, at, dropping = [], None, False
    for ln in lines:
        if ln[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(ln)
            continue
        dropping = bool(DROP.match(ln))
        if dropping:
            if at is None:
                at = len(kept)
        else:
            kept.append(ln)
    if at is None:
        at = 0
    before = FROM_LINE.sub(rb">\1", eol.join(kept[:at]) + eol if at else b"")
    after = FROM_LINE.sub(rb">\1", eol.join(kept[at:]) + eol if at < len(kept) else b"")
    return before, after, FROM_LINE.sub(rb">\1", body), eol


def rfc5322(t, tz):
    g = time.gmtime(t + tz)
    sign = "+" if tz >= 0 else "-"
    off = abs(tz) // 60
    return "%s, %d %s %d %02d:%02d:%02d %s%02d%02d" % (
        DAYS[g.tm_wday], g.tm_mday, MONTHS[g.tm_mon - 1], g.tm_year, g.tm_hour, g.tm_min,
        g.tm_sec, sign, off // 60, off % 60)


def files(top, suffix=""):
    out = []
    for d, _, names in os.walk(top):
        out += [os.path.join(d, n) for n in names if n.endswith(suffix)]
    return sorted(out)


def main(argv):
    seed, jp_every, args = 1, 200, []
    i = 0
    while i < len(argv):
        if argv[i] == "--seed":
            seed = int(argv[i + 1])
            i += 2
        elif argv[i] == "--jp-every":
            jp_every = int(argv[i + 1])
            i += 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 3 or jp_every < 2:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    corpus, n, out = args[0], int(args[1]), args[2]

    enron = [source(open(p, "rb").read())
             for p in files(os.path.join(corpus, "enron-skilling-j", "maildir-skilling-j"))]
    jp, seen = [], set()
    for p in files(os.path.join(corpus, "jpmobile-japanese-mobile"), ".eml"):
        raw = open(p, "rb").read()
        if raw not in seen:
            seen.add(raw)
            jp.append(source(raw))
    if not enron or not jp:
        sys.stderr.write("gen_mail: no messages under %s\n" % corpus)
        return 1

    rng = random.Random(seed)
    ne = nj = 0
    nbytes = 0
    with open(out, "wb", buffering=1 << 20) as f:
        for i in range(n):
            if i % jp_every == jp_every - 1:
                before, after, body, eol = jp[nj % len(jp)]
                tz = JP_TZ
                nj += 1
            else:
                before, after, body, eol = enron[ne % len(enron)]
                tz = ENRON_TZ
                ne += 1
            t = rng.randrange(DATE_LO, DATE_HI)
            msg = b"".join((
                before,
                b"Message-ID: <%d.%d.JavaMail.bench@vellum.invalid>" % (i, seed), eol,
                b"Date: ", rfc5322(t, tz).encode(), eol,
                after, body))
            f.write(b"From MAILER-DAEMON " + time.asctime(time.gmtime(t)).encode() + b"\n")
            f.write(msg)
            f.write(b"\n")
            nbytes += len(msg)
    sys.stderr.write("gen_mail: %d messages (%d Enron, %d Japanese), %d message bytes, seed %d\n"
                     % (n, ne, nj, nbytes, seed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
