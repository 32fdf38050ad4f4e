#!/bin/sh
# t10-roundtrip - every message of the corpus goes in and comes back byte for byte; the same
# content stored again (also by two concurrent writers) is stored once.
. "$(dirname "$0")/lib.sh"

it_begin
it_archive

manifest_messages >"$W/all.tsv"
cut -f1 "$W/all.tsv" >"$W/files"
nfiles=$(wc -l <"$W/files")
ndistinct=$(cut -f3 "$W/all.tsv" | sort -u | wc -l)
say "$nfiles message files, $ndistinct distinct contents"
if [ "$nfiles" -lt 4000 ]; then
	fail corpus "only $nfiles message files found under $CORPUS"
	exit 1
fi

# The corpus itself must match its manifest, or the comparisons below would prove nothing.
tr '\n' '\0' <"$W/files" | xargs -0 sha256sum | sed 's/^\\//' | awk '{ print $1 }' >"$W/file.sha"
cut -f3 "$W/all.tsv" | cmp -s - "$W/file.sha"
verdict "corpus files match MANIFEST.tsv" $? "sha256sum of the files differs from the manifests"

# --- Store everything, in three big calls -------------------------------------------------
split -n l/3 "$W/files" "$W/chunk."
rc=0
t0=$(now_s)
for chunk in "$W"/chunk.*; do
	xargs -d '\n' "$VELLUM" --data "$D" store <"$chunk" >>"$W/store1.out" 2>>"$W/store1.err" || rc=$?
done
say "stored $nfiles files in $(since "$t0") s"
verdict "store exits 0 for the whole corpus" "$rc" "exit $rc: $(excerpt "$W/store1.err")"

# One line per file: "<id> <sha256> <file>", with the manifest's sha256.
awk -v out="$W/store1.bad" '
	FNR == NR { split($0, col, "\t"); want[col[1]] = col[3]; next }
	{
		id = $1; sha = $2; file = substr($0, length($1) + length($2) + 3)
		if (!(file in want)) { print "unknown file: " $0 > out; bad++; next }
		if (seen[file]++) { print "printed twice: " file > out; bad++; next }
		if (sha != want[file]) { print "sha256 " sha " != manifest " want[file] " for " file > out; bad++ }
		if ((sha in idof) && idof[sha] != id) { print "same content, two ids: " idof[sha] " " id > out; bad++ }
		if ((id in shaof) && shaof[id] != sha) { print "one id, two contents: " id > out; bad++ }
		idof[sha] = id; shaof[id] = sha
	}
	END { for (f in want) if (!(f in seen)) { print "not printed: " f > out; bad++ } exit (bad > 0) }
' "$W/all.tsv" "$W/store1.out"
verdict "store prints one line per file with the manifest's sha256, one id per content" $? \
	"$(excerpt "$W/store1.bad")"

nblobs=$(sql 'select count(*) from blobs')
nmsgs=$(sql 'select count(*) from messages')
[ "$nblobs" = "$ndistinct" ] && [ "$nmsgs" = "$ndistinct" ]
verdict "one blob and one message per distinct content" $? \
	"blobs=$nblobs messages=$nmsgs distinct=$ndistinct"

# The index holds each printed id with the manifest's evidence hash...
db_check "$W/store1.out" "$W/db.bad"
[ ! -s "$W/db.bad" ]
verdict "every printed id is indexed with its file's sha256" $? "$(excerpt "$W/db.bad")"

# ...verify --all decrypts every record and checks it against that hash...
t0=$(now_s)
v verify --all >"$W/verify.out" 2>&1
rc=$?
say "verify --all of the corpus in $(since "$t0") s"
verdict "verify --all passes on the full corpus" "$rc" "exit $rc: $(tail -n 5 "$W/verify.out" | tr '\n' '|')"

# ...and `vellum cat` gives the bytes back. A sample, as one cat costs 0.1-0.3 s: from the small
# corpora (the odd ones: malformed, 8-bit, CRLF) every message of 64 KiB or more (several
# secretstream chunks) and every 4th of the others, and every 60th of Enron; read with the
# optimised build, and every 8th of them with the sanitized one. IT_FULL=1 reads back all of
# them, sanitized.
if [ "$IT_FULL" = 1 ]; then
	cp "$W/store1.out" "$W/sample"
else
	awk -v e="$ENRON/" '
		FNR == NR { split($0, col, "\t"); size[col[1]] = col[2]; next }
		{ file = substr($0, length($1) + length($2) + 3) }
		index(file, e) == 1 { if (++n % 60 == 1) print; next }
		size[file] >= 65536 || ++k % 4 == 1' "$W/all.tsv" "$W/store1.out" >"$W/sample"
fi
t0=$(now_s)
read_back "$W/sample" "$W/cat.bad"
nsample=$(awk '{ print $1 }' "$W/sample" | sort -u | wc -l)
say "cat of $nsample messages in $(since "$t0") s"
[ ! -s "$W/cat.bad" ]
verdict "cat gives back $nsample messages byte for byte" $? \
	"$(wc -l <"$W/cat.bad") mismatches: $(excerpt "$W/cat.bad")"

# Readers at the same time (each read is audited) all succeed.
set -- $(sed -n 100p "$W/store1.out")
seq 24 | xargs -P 8 -I{} sh -c '"$0" --data "$1" cat "$2" 2>>"$3/par.err" | sha256sum | cut -c1-64' \
	"$VELLUM" "$D" "$1" "$W" >"$W/par.out"
bad=$(grep -vc "^$2\$" "$W/par.out")
[ "$bad" -eq 0 ] && [ "$(wc -l <"$W/par.out")" -eq 24 ]
verdict "24 concurrent cats of one message (8 at a time) all give its bytes" $? \
	"$bad of 24 failed: $(excerpt "$W/par.err")"

# By address (64 hex) and by sha256:HEX, compared with the file itself.
rc=0
sed -n '1p;700p;1500p;3000p;4500p' "$W/store1.out" >"$W/some"
while read -r id sha file; do
	addr=$(sql "select encode(address, 'hex') from messages where id = $id")
	v cat "$addr" >"$W/by-addr" 2>"$W/by-addr.err" && cmp -s "$W/by-addr" "$file" || {
		rc=1
		echo "cat $addr (message $id): $(excerpt "$W/by-addr.err")" >>"$W/keys.bad"
	}
	v cat "sha256:$sha" >"$W/by-sha" 2>"$W/by-sha.err" && cmp -s "$W/by-sha" "$file" || {
		rc=1
		echo "cat sha256:$sha: $(excerpt "$W/by-sha.err")" >>"$W/keys.bad"
	}
done <"$W/some"
verdict "cat by ADDRESS and by sha256:HEX gives the file's bytes" "$rc" "$(excerpt "$W/keys.bad")"

# An unknown message: an error, and not one byte on stdout.
v cat 999999999 >"$W/none.out" 2>"$W/none.err"
rc=$?
[ "$rc" -ne 0 ] && [ ! -s "$W/none.out" ] && [ -s "$W/none.err" ]
verdict "cat of an unknown id fails with an error and no output" $? \
	"exit $rc, stdout $(wc -c <"$W/none.out") bytes, stderr: $(excerpt "$W/none.err")"
v cat "sha256:$(printf '%064d' 0)" >"$W/none.out" 2>"$W/none.err"
rc=$?
[ "$rc" -ne 0 ] && [ ! -s "$W/none.out" ]
verdict "cat of an unknown sha256 fails with no output" $? "exit $rc"

# --- Store everything again: same ids, no new blob -----------------------------------------
xargs -d '\n' "$VELLUM" --data "$D" store <"$W/files" >"$W/store2.out" 2>"$W/store2.err"
rc=$?
verdict "storing the corpus again exits 0" "$rc" "exit $rc: $(excerpt "$W/store2.err")"
sort "$W/store1.out" >"$W/s1"
sort "$W/store2.out" >"$W/s2"
cmp -s "$W/s1" "$W/s2"
verdict "storing again prints the same id and sha256 for every file" $? \
	"$(diff "$W/s1" "$W/s2" | head -5 | tr '\n' '|')"
n2=$(sql 'select count(*) from blobs')
m2=$(sql 'select count(*) from messages')
[ "$n2" = "$nblobs" ] && [ "$m2" = "$nmsgs" ]
verdict "storing again adds no blob and no message" $? \
	"blobs $nblobs -> $n2, messages $nmsgs -> $m2"

# --- Two concurrent writers of the same new files ------------------------------------------
mkdir "$W/conc"
head -n 200 "$W/files" | awk '{ printf "%s\t%d\n", $0, NR }' >"$W/conc.src"
while IFS="$(printf '\t')" read -r src n; do
	{ printf 'X-Vellum-IT: concurrent %d\n' "$n"; cat "$src"; } >"$W/conc/m$n.eml"
done <"$W/conc.src"
ls "$W/conc"/*.eml >"$W/conc.files"
xargs -d '\n' "$VELLUM" --data "$D" store --wait <"$W/conc.files" >"$W/conc.a" 2>"$W/conc.a.err" &
pa=$!
xargs -d '\n' "$VELLUM" --data "$D" store --wait <"$W/conc.files" >"$W/conc.b" 2>"$W/conc.b.err" &
pb=$!
wait $pa
ra=$?
wait $pb
rb=$?
[ "$ra" -eq 0 ] && [ "$rb" -eq 0 ]
verdict "two concurrent store --wait both exit 0" $? \
	"exits $ra/$rb: $(excerpt "$W/conc.a.err") $(excerpt "$W/conc.b.err")"
sort "$W/conc.a" >"$W/ca"
sort "$W/conc.b" >"$W/cb"
[ "$(wc -l <"$W/ca")" -eq 200 ] && cmp -s "$W/ca" "$W/cb"
verdict "both concurrent writers print the same 200 ids" $? \
	"$(wc -l <"$W/ca")/$(wc -l <"$W/cb") lines; $(diff "$W/ca" "$W/cb" | head -4 | tr '\n' '|')"
n3=$(sql 'select count(*) from blobs')
m3=$(sql 'select count(*) from messages')
ids=$(awk '{ print $1 }' "$W/ca" | sort -u | wc -l)
[ "$n3" -eq $((nblobs + 200)) ] && [ "$m3" -eq $((nmsgs + 200)) ] && [ "$ids" -eq 200 ]
verdict "concurrent writers store each new file once" $? \
	"blobs $nblobs -> $n3, messages $nmsgs -> $m3 (want +200), distinct ids $ids"
(cd "$W/conc" && sha256sum -- *.eml) | awk -v dir="$W/conc" '{ print dir "/" $2, $1 }' | sort >"$W/conc.want"
awk '{ print $3, $2 }' "$W/ca" | sort >"$W/conc.got"
cmp -s "$W/conc.want" "$W/conc.got"
verdict "concurrent store prints each file's own sha256" $? "$(diff "$W/conc.want" "$W/conc.got" | head -3 | tr '\n' '|')"
read_back "$W/ca" "$W/conc.bad"
[ ! -s "$W/conc.bad" ]
verdict "cat of the concurrently stored messages" $? "$(excerpt "$W/conc.bad")"

# --- And the whole archive still verifies ---------------------------------------------------
v verify --all >"$W/verify.out" 2>&1
rc=$?
verdict "verify --all passes after the second and the concurrent stores" "$rc" \
	"exit $rc: $(tail -n 5 "$W/verify.out" | tr '\n' '|')"
