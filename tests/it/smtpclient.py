#!/usr/bin/env python3
"""smtpclient.py - a raw SMTP/LMTP client for Vellum's integration tests and ingest benchmark.

Python 3 standard library only. Unlike swaks or smtplib it sends a message's exact bytes: with
BDAT (CHUNKING) nothing is changed at all; with DATA every line that starts with "." gets one
more "." (the server removes it again) and nothing else is touched, so DATA is used only for a
message that ends with a line ending (the end marker needs one); any other message goes by BDAT.
No CRLF is added, no bare LF is rewritten.

	smtpclient.py send [options] FILE...          send files (or --files-from LIST)
	smtpclient.py hold [options]                  open N idle connections and hold them
	smtpclient.py ports -n N                      print N free loopback TCP ports
	smtpclient.py wait [options]                  wait for a 220 greeting

send writes one tab-separated line per message (to --log FILE, else stdout), flushed at once:

	status  sha256  size  codes  ack_ms  total_ms  conn  via  name  reply

status is ok (every final reply 2xx), tempfail (4xx), permfail (5xx) or error (the connection
failed or the reply was unreadable: whether the message was stored is unknown); sha256 is the
SHA-256 of the exact bytes sent (after --unique's header, before dot-stuffing); codes are the
final replies (LMTP: one per accepted recipient, comma-separated); ack_ms is the time from the
last byte of the message sent to the last final reply; total_ms from MAIL to that reply; via is
bdat or data. A summary line goes to stderr at the end:

	smtpclient: sent=N ok=N tempfail=N permfail=N error=N elapsed=S rate=MSGS/S ack_p50_ms=..
	ack_p99_ms=.. total_p50_ms=.. total_p99_ms=.. tls=VERSION/CIPHER

rate counts acknowledged (ok) messages per second of wall time. Exit status: 0 when every message
was ok, 1 otherwise, 2 on a usage error.

It can also be imported (tests/it scripts do: sys.path + import smtpclient) for Session.
"""

import argparse
import hashlib
import os
import random
import socket
import ssl
import sys
import threading
import time

CRLF = b"\r\n"
PIECE = 1 << 20  # file bytes read and sent at a time
INMEM_MAX = 8 << 20  # files up to this size are read whole


class SmtpError(Exception):
	"""The connection failed or the server said something unreadable."""


class Refused(SmtpError):
	"""The greeting was not 220."""

	def __init__(self, code, text):
		SmtpError.__init__(self, "greeting %d %s" % (code, text))
		self.code = code
		self.text = text


# ---- messages ----


class Msg:
	"""One message to send: a file (read whole when small, else streamed) or bytes."""

	def __init__(self, name, data=None, path=None, prefix=b"", suffix=b""):
		self.name = name
		self.path = path
		self.prefix = prefix
		self.suffix = suffix
		self.data = data
		if data is None:
			self.fsize = os.path.getsize(path)
			if self.fsize <= INMEM_MAX:
				with open(path, "rb") as f:
					self.data = f.read()
		self.size = len(prefix) + (len(self.data) if self.data is not None else self.fsize) + len(suffix)

	def last_byte(self):
		return self.last_bytes(1)

	def last_bytes(self, n):
		"""The last n bytes (fewer when the message is shorter)."""
		if self.data is not None:
			body = self.data[-n:]
		elif self.fsize:
			with open(self.path, "rb") as f:
				f.seek(max(0, self.fsize - n))
				body = f.read(n)
		else:
			body = b""
		return (self.prefix + body + self.suffix)[-n:]

	def pieces(self):
		if self.prefix:
			yield self.prefix
		if self.data is not None:
			if self.data:
				yield self.data
		else:
			with open(self.path, "rb") as f:
				while True:
					p = f.read(PIECE)
					if not p:
						break
					yield p
		if self.suffix:
			yield self.suffix


def dot_stuff(pieces):
	"""The DATA transparency procedure (RFC 5321 4.5.2): one more "." before every "." that
	starts a line, a line being what follows an LF (or the start of the message)."""
	bol = True
	for p in pieces:
		if not p:
			continue
		q = p.replace(b"\n.", b"\n..")
		if bol and p[:1] == b".":
			q = b"." + q
		bol = p.endswith(b"\n")
		yield q


# ---- one connection ----


class Session:
	"""One SMTP or LMTP connection: greeting, EHLO/LHLO, optional STARTTLS."""

	def __init__(self, host="127.0.0.1", port=25, unix=None, lmtp=False, helo="smtpclient.test",
		     starttls=False, pipelining=True, timeout=120.0, ehlo=True):
		self.lmtp = lmtp
		self.helo_name = helo
		self.pipelining_wanted = pipelining
		self.buf = b""
		self.ext = {}
		self.tls = None
		if unix:
			self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		else:
			fam = socket.AF_INET6 if ":" in host else socket.AF_INET
			self.sock = socket.socket(fam, socket.SOCK_STREAM)
			self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
		self.sock.settimeout(timeout)
		try:
			self.sock.connect(unix if unix else (host, port))
			code, lines = self.reply()
		except OSError as e:
			self.sock.close()
			raise SmtpError("connect: %s" % e)
		except SmtpError:
			self.sock.close()
			raise
		self.greeting = (code, lines)
		if code != 220:
			self.sock.close()
			raise Refused(code, " ".join(lines))
		if ehlo:
			self.ehlo()
			if starttls:
				self.starttls()

	# -- I/O --

	def send(self, data):
		try:
			self.sock.sendall(data)
		except OSError as e:
			raise SmtpError("send: %s" % e)

	def readline(self):
		while True:
			i = self.buf.find(b"\n")
			if i >= 0:
				line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
				return line
			try:
				chunk = self.sock.recv(65536)
			except OSError as e:
				raise SmtpError("recv: %s" % e)
			if not chunk:
				raise SmtpError("connection closed by server")
			self.buf += chunk
			if len(self.buf) > 1 << 20:
				raise SmtpError("reply line too long")

	def reply(self):
		"""One (possibly multi-line) reply: (code, [text lines])."""
		lines = []
		while True:
			raw = self.readline().rstrip(b"\r\n")
			if len(raw) < 3 or not raw[:3].isdigit():
				raise SmtpError("unreadable reply %r" % raw[:80])
			lines.append(raw[4:].decode("utf-8", "replace"))
			if raw[3:4] != b"-":
				return int(raw[:3]), lines

	def cmd(self, line):
		if isinstance(line, str):
			line = line.encode("utf-8")
		self.send(line + CRLF)
		return self.reply()

	# -- commands --

	def ehlo(self):
		code, lines = self.cmd(("LHLO " if self.lmtp else "EHLO ") + self.helo_name)
		if code != 250:
			raise SmtpError("%s refused: %d %s" % ("LHLO" if self.lmtp else "EHLO", code, lines))
		self.ext = {}
		for l in lines[1:]:
			kw = l.split(" ", 1)
			self.ext[kw[0].upper()] = kw[1] if len(kw) > 1 else ""
		return code, lines

	def starttls(self):
		code, lines = self.cmd("STARTTLS")
		if code != 220:
			raise SmtpError("STARTTLS refused: %d %s" % (code, lines))
		ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
		ctx.check_hostname = False
		ctx.verify_mode = ssl.CERT_NONE  # the server's certificate is self-signed
		try:
			self.sock = ctx.wrap_socket(self.sock, server_hostname=None)
		except (OSError, ssl.SSLError) as e:
			raise SmtpError("TLS handshake: %s" % e)
		self.buf = b""
		self.tls = "%s/%s" % (self.sock.version(), self.sock.cipher()[0])
		self.ehlo()

	@property
	def pipelining(self):
		return self.pipelining_wanted and "PIPELINING" in self.ext

	def quit(self):
		try:
			self.cmd("QUIT")
		except SmtpError:
			pass
		self.close()

	def close(self):
		try:
			self.sock.close()
		except OSError:
			pass

	def rset(self):
		return self.cmd("RSET")

	def transaction(self, msg, mail_from, rcpts, mode="bdat", chunk=0, size_param=False,
			mail_params=""):
		"""Send one message. rcpts are "addr" or "addr PARAMS". Returns a dict: codes (final
		reply codes; the refusal's code when MAIL or every RCPT was refused), reply (their
		text), via, sha256 (of the bytes of the message), t0 (MAIL sent), t_end (last byte
		sent), t_done (last reply read), stage (done, mail, rcpt, data or bdat)."""
		via = mode
		if mode in ("data", "auto"):
			via = "data" if msg.size > 0 and msg.last_byte() == b"\n" else "bdat"
		if via == "bdat" and "CHUNKING" not in self.ext:
			# No BDAT here (smtp-sink): DATA, with a CRLF added when the message does not end
			# with one (smtp-sink knows no bare-LF end marker); sha256 then covers what was
			# sent, and via says so.
			via = "data"
			if msg.last_bytes(2) != b"\r\n":
				msg = Msg(msg.name, data=msg.data, path=msg.path if msg.data is None else None,
					  prefix=msg.prefix, suffix=b"\r\n")
				via = "data+crlf"
		params = mail_params
		if size_param:
			params += " SIZE=%d" % msg.size
		head = [("MAIL FROM:<%s>%s" % (mail_from, params)).encode("utf-8")]
		for r in rcpts:
			a = r.split(" ", 1)
			head.append(("RCPT TO:<%s>%s" % (a[0], " " + a[1] if len(a) > 1 else "")).encode("utf-8"))
		hs = _Hash()
		res = {"via": via, "codes": [], "reply": "", "stage": "done"}
		res["t0"] = time.perf_counter()
		pipe = self.pipelining
		accepted = 0
		fail = None
		data_mode = via.startswith("data")
		if pipe:
			lead = CRLF.join(head) + CRLF
			if data_mode:
				self.send(lead + b"DATA\r\n")
			else:
				# Everything in one write: commands, chunk headers and the bytes.
				self._send_bdat(msg, chunk, lead, hs)
			c, l = self.reply()
			if c != 250:
				fail = ("mail", c, l)
			for _ in rcpts:
				c, l = self.reply()
				if c // 100 == 2:
					accepted += 1
				elif fail is None:
					fail = ("rcpt", c, l)
			if accepted == 0 and fail is None:
				fail = ("rcpt", 554, ["no recipients"])
		else:
			c, l = self.cmd(head[0])
			if c != 250:
				fail = ("mail", c, l)
			else:
				for hl in head[1:]:
					c2, l2 = self.cmd(hl)
					if c2 // 100 == 2:
						accepted += 1
					elif fail is None:
						fail = ("rcpt", c2, l2)
				if accepted == 0 and fail is None:
					fail = ("rcpt", 554, ["no recipients"])
			if accepted == 0:
				self.rset()
				return self._done(res, msg, hs, fail)
		proceed = fail is None or (fail[0] == "rcpt" and accepted > 0)
		if data_mode:
			if not pipe:
				self.send(b"DATA\r\n")
			c, l = self.reply()
			if c != 354:
				return self._done(res, msg, hs, fail if not proceed else ("data", c, l))
			for q in dot_stuff(hs.tap(msg.pieces())):
				self.send(q)
			self.send(b".\r\n")
		else:
			if not pipe:
				bad = self._send_bdat(msg, chunk, b"", hs, lockstep=True)
				if bad:
					self.rset()
					return self._done(res, msg, hs, bad)
			else:
				for _ in range(self._nchunks(msg, chunk) - 1):
					c, l = self.reply()  # the intermediate chunks' replies
					if c // 100 != 2 and proceed:
						proceed = False
						fail = ("bdat", c, l)
		res["t_end"] = time.perf_counter()
		nfinal = accepted if self.lmtp and proceed else 1
		codes, texts = [], []
		for _ in range(nfinal):
			c, l = self.reply()
			codes.append(c)
			texts.append(" ".join(l))
		res["t_done"] = time.perf_counter()
		res["codes"] = codes
		res["reply"] = " | ".join(texts)
		if not proceed:
			return self._done(res, msg, hs, fail)
		return self._done(res, msg, hs, None)

	@staticmethod
	def _nchunks(msg, chunk):
		if chunk <= 0 or msg.size == 0:
			return 1
		return (msg.size + chunk - 1) // chunk

	def _send_bdat(self, msg, chunk, lead, hs, lockstep=False):
		"""BDAT chunks of at most chunk bytes (0: one chunk), the last with LAST; lead (the
		pipelined commands) goes out in the same write as the first chunk. In lockstep each
		intermediate chunk's reply is read before the next; a refusal is returned."""
		total = msg.size
		n = self._nchunks(msg, chunk)
		size = total if n == 1 else chunk
		sent = 0
		pending = b""
		it = hs.tap(msg.pieces())
		for i in range(n):
			want = min(size, total - sent)
			last = i == n - 1
			buf = [lead, ("BDAT %d%s\r\n" % (want, " LAST" if last else "")).encode()]
			blen = len(lead)
			lead = b""
			got = 0
			while got < want:
				if not pending:
					pending = next(it)
				take = pending[:want - got]
				pending = pending[len(take):]
				buf.append(take)
				blen += len(take)
				got += len(take)
				if blen >= PIECE:
					self.send(b"".join(buf))
					buf, blen = [], 0
			if buf:
				self.send(b"".join(buf))
			sent += want
			if lockstep and not last:
				c, l = self.reply()
				if c // 100 != 2:
					return ("bdat", c, l)
		return None

	def _done(self, res, msg, hs, fail):
		if "t_end" not in res:
			res["t_end"] = time.perf_counter()
		if "t_done" not in res:
			res["t_done"] = time.perf_counter()
		if fail is not None:
			res["stage"] = fail[0]
			res["codes"] = [fail[1]]
			res["reply"] = " ".join(fail[2])
		res["size"] = msg.size
		# The SHA-256 of the message's bytes, whether or not all of them were sent.
		res["sha256"] = hs.hexdigest() if hs.n == msg.size else sha256_of(msg)
		return res


class _Hash:
	"""SHA-256 of the pieces that pass through tap()."""

	def __init__(self):
		self.h = hashlib.sha256()
		self.n = 0

	def tap(self, pieces):
		for p in pieces:
			self.h.update(p)
			self.n += len(p)
			yield p

	def hexdigest(self):
		return self.h.hexdigest()


def sha256_of(msg):
	h = hashlib.sha256()
	for p in msg.pieces():
		h.update(p)
	return h.hexdigest()


def status_of(codes):
	if not codes:
		return "error"
	if all(c // 100 == 2 for c in codes):
		return "ok"
	if any(c // 100 == 5 for c in codes):
		return "permfail"
	return "tempfail"


# ---- send ----


class Feeder:
	"""Hands out messages to the workers: each file once (or --repeat times), or cycling
	until --count, --duration or --stop-file says stop."""

	def __init__(self, files, a, share=(0, 1)):
		self.files = files
		self.a = a
		self.lock = threading.Lock()
		self.i = 0
		self.n = 0
		self.share = share
		self.t_end = time.time() + a.duration if a.duration else None
		self.limit = None
		if a.count:
			self.limit = a.count // share[1] + (1 if share[0] < a.count % share[1] else 0)
		elif not a.loop:
			self.limit = len(files) * a.repeat
		self.stopped = False

	def next(self, conn):
		with self.lock:
			if self.stopped:
				return None
			if self.limit is not None and self.n >= self.limit:
				return None
			if self.t_end and time.time() >= self.t_end:
				return None
			if self.a.stop_file and os.path.exists(self.a.stop_file):
				return None
			if not self.files:
				return None
			k = self.n
			self.n += 1
		path = self.files[k % len(self.files)]
		prefix = b""
		if self.a.unique:
			prefix = ("X-Smtpclient-Seq: %d.%d.%d.%d.%08x" % (os.getpid(), self.share[0], conn, k,
								       random.getrandbits(32))).encode()
			prefix += b"\r\n"
		return Msg(path, path=path, prefix=prefix)


class Out:
	def __init__(self, path):
		self.lock = threading.Lock()
		if path and path != "-":
			self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
		else:
			self.fd = sys.stdout.fileno()
		self.results = []

	def write(self, r, conn, name):
		line = "%s\t%s\t%d\t%s\t%.3f\t%.3f\t%d\t%s\t%s\t%s\n" % (
			r["status"], r["sha256"], r["size"], ",".join(str(c) for c in r["codes"]) or "-",
			r["ack_ms"], r["total_ms"], conn, r["via"], name,
			r["reply"].replace("\t", " ").replace("\n", " ")[:300])
		with self.lock:
			os.write(self.fd, line.encode("utf-8", "replace"))
			self.results.append((r["status"], r["ack_ms"], r["total_ms"]))


def worker(a, feeder, out, conn, tlsinfo):
	sess = None
	sent_on_session = 0
	reconnects = 0
	msg = None
	while True:
		if msg is None:
			msg = feeder.next(conn)
			if msg is None:
				break
		try:
			if sess is None:
				sess = Session(a.host, a.port, a.unix, a.lmtp, a.helo, a.starttls, not a.no_pipelining,
					       a.timeout)
				sent_on_session = 0
				if sess.tls:
					tlsinfo[0] = sess.tls
			r = sess.transaction(msg, a.mail_from, a.rcpt, a.mode, a.chunk, a.size_param, a.mail_params)
			r["status"] = status_of(r["codes"])
			r["ack_ms"] = (r["t_done"] - r["t_end"]) * 1000.0
			r["total_ms"] = (r["t_done"] - r["t0"]) * 1000.0
		except SmtpError as e:
			r = {"status": "error", "sha256": sha256_of(msg), "codes": [], "ack_ms": -1.0,
			     "total_ms": -1.0, "via": a.mode, "reply": str(e)}
			if isinstance(e, Refused):
				r["codes"] = []
				r["reply"] = "%d %s" % (e.code, e.text)
			if sess:
				sess.close()
			sess = None
		r.setdefault("size", msg.size)
		out.write(r, conn, msg.name)
		msg = None
		if r["status"] == "error":
			reconnects += 1
			if not a.reconnect or reconnects > a.max_reconnects:
				break
			time.sleep(a.reconnect_delay)
			continue
		sent_on_session += 1
		if a.per_session and sent_on_session >= a.per_session:
			sess.quit()
			sess = None
		elif a.rset:
			try:
				sess.rset()
			except SmtpError:
				sess.close()
				sess = None
	if sess:
		sess.quit()


def pct(vals, p):
	if not vals:
		return float("nan")
	vals = sorted(vals)
	k = min(len(vals) - 1, max(0, int(round(p / 100.0 * len(vals) + 0.5)) - 1))
	return vals[k]


def summary(results, elapsed, tls):
	n = {"ok": 0, "tempfail": 0, "permfail": 0, "error": 0}
	ack = []
	tot = []
	for st, am, tm in results:
		n[st] = n.get(st, 0) + 1
		if st == "ok":
			ack.append(am)
			tot.append(tm)
	return ("smtpclient: sent=%d ok=%d tempfail=%d permfail=%d error=%d elapsed=%.3f rate=%.1f "
		"ack_p50_ms=%.2f ack_p99_ms=%.2f total_p50_ms=%.2f total_p99_ms=%.2f tls=%s" % (
			len(results), n["ok"], n["tempfail"], n["permfail"], n["error"], elapsed,
			n["ok"] / elapsed if elapsed > 0 else 0.0, pct(ack, 50), pct(ack, 99), pct(tot, 50),
			pct(tot, 99), tls or "-"))


def read_results(path):
	res = []
	with open(path, "rb") as f:
		for line in f:
			c = line.decode("utf-8", "replace").split("\t")
			if len(c) >= 6:
				res.append((c[0], float(c[4]), float(c[5])))
	return res


def run_send(a):
	files = list(a.files)
	if a.files_from:
		with open(a.files_from) as f:
			files += [l.rstrip("\n").split("\t")[0] for l in f if l.strip()]
	if a.shuffle:
		random.Random(a.shuffle).shuffle(files)
	if not a.rcpt:
		a.rcpt = ["archive@vellum.test"]
	if a.procs > 1:
		if not a.log or a.log == "-":
			print("smtpclient: --procs needs --log FILE", file=sys.stderr)
			return 2
		t0 = time.perf_counter()
		kids = []
		for i in range(a.procs):
			pid = os.fork()
			if pid == 0:
				share = files[i::a.procs] if not a.loop and not a.count else files
				conns = a.conns // a.procs + (1 if i < a.conns % a.procs else 0)
				rc = send_in_process(a, share, conns, (i, a.procs), quiet=True)
				os._exit(rc)
			kids.append(pid)
		rc = 0
		for pid in kids:
			_, st = os.waitpid(pid, 0)
			if os.waitstatus_to_exitcode(st) != 0:
				rc = 1
		elapsed = time.perf_counter() - t0
		print(summary(read_results(a.log), elapsed, None), file=sys.stderr)
		return rc
	return send_in_process(a, files, a.conns, (0, 1))


def send_in_process(a, files, conns, share, quiet=False):
	feeder = Feeder(files, a, share)
	out = Out(a.log)
	tlsinfo = [None]
	threads = [threading.Thread(target=worker, args=(a, feeder, out, i, tlsinfo), daemon=True)
		   for i in range(conns)]
	t0 = time.perf_counter()
	for t in threads:
		t.start()
	for t in threads:
		t.join()
	elapsed = time.perf_counter() - t0
	if not quiet:
		print(summary(out.results, elapsed, tlsinfo[0]), file=sys.stderr)
	return 0 if out.results and all(r[0] == "ok" for r in out.results) else 1


# ---- hold ----


def run_hold(a):
	"""Open -n connections one after the other (reading each greeting), report how they were
	greeted (--ready FILE, or stdout), hold them for --seconds or until --until FILE exists,
	then check which are still served (NOOP -> 250) and print the verdict line:
	opened=N greet_220=.. greet_421=.. greet_554=.. greet_other=.. errors=.. alive=.."""
	sess = []
	counts = {}
	errors = 0
	for _ in range(a.n):
		try:
			s = Session(a.host, a.port, a.unix, a.lmtp, ehlo=False, timeout=a.timeout)
			counts[220] = counts.get(220, 0) + 1
			sess.append(s)
		except Refused as e:
			counts[e.code] = counts.get(e.code, 0) + 1
		except SmtpError:
			errors += 1
	line = "opened=%d greet_220=%d greet_421=%d greet_554=%d greet_other=%d errors=%d" % (
		a.n, counts.get(220, 0), counts.get(421, 0), counts.get(554, 0),
		sum(v for k, v in counts.items() if k not in (220, 421, 554)), errors)
	if a.ready:
		with open(a.ready + ".tmp", "w") as f:
			f.write(line + "\n")
		os.rename(a.ready + ".tmp", a.ready)
	t_end = time.time() + a.seconds
	while time.time() < t_end:
		if a.until and os.path.exists(a.until):
			break
		time.sleep(0.05)
	alive = 0
	for s in sess:
		try:
			if s.cmd("NOOP")[0] == 250:
				alive += 1
		except SmtpError:
			pass
		s.close()
	print(line + " alive=%d" % alive)
	return 0


# ---- helpers for the test scripts ----


def run_ports(a):
	"""Print -n distinct TCP ports between 20000 and 60000 that are free on 127.0.0.1 and ::1."""
	got = []
	rnd = random.SystemRandom()
	while len(got) < a.n:
		p = rnd.randint(20000, 60000)
		if p in got:
			continue
		ok = True
		for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
			s = socket.socket(fam, socket.SOCK_STREAM)
			try:
				s.bind((host, p))
			except OSError as e:
				ok = ok and fam == socket.AF_INET6 and e.errno == 99  # no ::1 here: fine
			finally:
				s.close()
		if ok:
			got.append(p)
	print(" ".join(str(p) for p in got))
	return 0


def run_wait(a):
	"""Wait until a 220 greeting comes from the port (or Unix socket); exit 1 after --seconds."""
	t_end = time.time() + a.seconds
	while True:
		try:
			s = Session(a.host, a.port, a.unix, a.lmtp, ehlo=False, timeout=5)
			s.quit()
			return 0
		except SmtpError as e:
			if time.time() >= t_end:
				print("smtpclient wait: %s" % e, file=sys.stderr)
				return 1
			time.sleep(0.1)


def main(argv=None):
	p = argparse.ArgumentParser(description="raw SMTP/LMTP client for Vellum's tests")
	sub = p.add_subparsers(dest="what", required=True)

	def common(sp):
		sp.add_argument("--host", default="127.0.0.1")
		sp.add_argument("--port", type=int, default=25)
		sp.add_argument("--unix", help="connect to this Unix socket instead")
		sp.add_argument("--lmtp", action="store_true", help="speak LMTP (LHLO, a reply per recipient)")
		sp.add_argument("--timeout", type=float, default=120.0, help="socket timeout, seconds")

	s = sub.add_parser("send", help="send messages")
	common(s)
	s.add_argument("files", nargs="*")
	s.add_argument("--files-from", help="file with one path per line (first tab field)")
	s.add_argument("--mode", choices=("bdat", "data", "auto"), default="bdat",
		       help="bdat: BDAT; data/auto: DATA when the message ends with LF, else BDAT")
	s.add_argument("--chunk", type=int, default=0, help="BDAT chunk size (0: one chunk)")
	s.add_argument("--conns", type=int, default=1, help="parallel connections")
	s.add_argument("--procs", type=int, default=1, help="split the connections over processes")
	s.add_argument("--per-session", type=int, default=0, help="messages per connection (0: all)")
	s.add_argument("--from", dest="mail_from", default="sender@smtpclient.test")
	s.add_argument("--rcpt", action="append", default=[], help='"addr" or "addr PARAMS"; repeatable')
	s.add_argument("--mail-params", default="", help='e.g. " BODY=8BITMIME"')
	s.add_argument("--size-param", action="store_true", help="send SIZE=n with MAIL")
	s.add_argument("--helo", default="smtpclient.test")
	s.add_argument("--starttls", action="store_true")
	s.add_argument("--no-pipelining", action="store_true")
	s.add_argument("--rset", action="store_true", help="RSET between messages")
	s.add_argument("--repeat", type=int, default=1)
	s.add_argument("--loop", action="store_true", help="cycle over the files until told to stop")
	s.add_argument("--count", type=int, default=0, help="send this many messages in all")
	s.add_argument("--duration", type=float, default=0, help="stop starting messages after S s")
	s.add_argument("--stop-file", help="stop starting messages once this file exists")
	s.add_argument("--unique", action="store_true",
		       help="prepend an X-Smtpclient-Seq header so every message sent is distinct")
	s.add_argument("--shuffle", type=int, default=0, help="shuffle the files with this seed")
	s.add_argument("--reconnect", action="store_true", help="reconnect after a connection error")
	s.add_argument("--max-reconnects", type=int, default=1000000)
	s.add_argument("--reconnect-delay", type=float, default=0.2)
	s.add_argument("--log", help="per-message lines to this file (appended), else stdout")

	h = sub.add_parser("hold", help="open idle connections and hold them")
	common(h)
	h.add_argument("-n", type=int, default=1)
	h.add_argument("--seconds", type=float, default=0)
	h.add_argument("--until", help="hold until this file exists (at most --seconds if set)")
	h.add_argument("--ready", help="write the greeting counts here once all are open")

	pp = sub.add_parser("ports", help="print free TCP ports (20000-60000) on loopback")
	pp.add_argument("-n", type=int, default=1)

	w = sub.add_parser("wait", help="wait until the server greets with 220")
	common(w)
	w.add_argument("--seconds", type=float, default=60)

	a = p.parse_args(argv)
	if a.what == "ports":
		return run_ports(a)
	if a.what == "wait":
		return run_wait(a)
	if a.what == "hold":
		if a.until and not a.seconds:
			a.seconds = 3600
		return run_hold(a)
	return run_send(a)


if __name__ == "__main__":
	sys.exit(main())
