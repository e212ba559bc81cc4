#!/bin/sh
# t_age_interop.sh: bootmeta's age against the real age and age-keygen programs: each side
# decrypts what the other encrypted (binary, armored, several recipients, passphrases,
# multi-chunk files), keys cross over, and failures are clean (exit 1, a clear message, no
# output file).
set -eu

: "${BOOTMETA:?set BOOTMETA to the bootmeta program}"
for p in age age-keygen; do
	command -v "$p" >/dev/null 2>&1 || { echo "FAIL: needs $p (Debian package age; make deps installs it)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"
umask 077

n=0
check() { n=$((n + 1)); printf 'ok %d - %s\n' "$n" "$1"; }
fail() { printf 'FAIL: %s\n' "$1" >&2; exit 1; }
same() { cmp -s "$1" "$2" || fail "$3: $1 and $2 differ"; }

# test data: small, exactly one chunk, multi-chunk with odd bytes, empty
printf 'hello, age\n' >small.txt
head -c 65536 /dev/urandom >chunk.bin
head -c $((200 * 1024 + 7)) /dev/urandom >multi.bin
: >empty.txt

# keys from both sides
"$BOOTMETA" age keygen -o bm.key 2>bm.pub.txt
bm_pub=$(sed -n 's/^# public key: //p' bm.key)
[ "$(stat -c %a bm.key)" = 600 ] || fail "bootmeta age keygen -o must create mode 0600, got $(stat -c %a bm.key)"
grep -q '^AGE-SECRET-KEY-1' bm.key || fail "bootmeta age keygen wrote no AGE-SECRET-KEY-1 line"
grep -q "^Public key: $bm_pub" bm.pub.txt || fail "bootmeta age keygen -o did not print the public key on stderr"
[ "$(age-keygen -y bm.key)" = "$bm_pub" ] || fail "age-keygen -y disagrees with bootmeta's recipient"
check "bootmeta keygen: mode 0600, age-keygen -y derives the same recipient"

age-keygen -o age.key 2>/dev/null
age_pub=$(age-keygen -y age.key)
[ "$("$BOOTMETA" age keygen -y age.key)" = "$age_pub" ] || fail "bootmeta age keygen -y disagrees with age-keygen -y"
check "age-keygen key: bootmeta keygen -y derives the same recipient"

if "$BOOTMETA" age keygen -o bm.key 2>err.txt; then fail "keygen -o overwrote an existing key"; fi
grep -q "already exists" err.txt || fail "keygen -o over an existing file: unclear message: $(cat err.txt)"
check "keygen -o refuses to overwrite a key"

# bootmeta encrypts, age decrypts
for f in small.txt chunk.bin multi.bin empty.txt; do
	"$BOOTMETA" age encrypt -r "$age_pub" -o "$f.bm.age" "$f"
	age -d -i age.key "$f.bm.age" >"$f.out" # (age -o creates no file for empty output)
	same "$f" "$f.out" "age -d of bootmeta's $f"
	"$BOOTMETA" age encrypt -a -r "$age_pub" <"$f" >"$f.bm.asc"
	head -1 "$f.bm.asc" | grep -qx -- '-----BEGIN AGE ENCRYPTED FILE-----' || fail "armored output has no BEGIN line"
	age -d -i age.key <"$f.bm.asc" >"$f.out2"
	same "$f" "$f.out2" "age -d of bootmeta's armored $f"
	rm -f "$f.out" "$f.out2"
done
check "bootmeta encrypts (binary and -a; empty, small, 64 KiB, 200 KiB+7) -> age -d decrypts"

# age encrypts, bootmeta decrypts
for f in small.txt chunk.bin multi.bin empty.txt; do
	age -r "$bm_pub" -o "$f.age" "$f"
	"$BOOTMETA" age decrypt -i bm.key -o "$f.out" "$f.age"
	same "$f" "$f.out" "bootmeta decrypt of age's $f"
	age -a -r "$bm_pub" <"$f" >"$f.asc"
	"$BOOTMETA" age decrypt -i bm.key <"$f.asc" >"$f.out2"
	same "$f" "$f.out2" "bootmeta decrypt of age's armored $f"
	rm -f "$f.out" "$f.out2"
done
check "age -e -r and age -a encrypt -> bootmeta decrypts (empty, small, 64 KiB, 200 KiB+7)"

# several recipients, both directions, recipients files, several identities
age-keygen -o third.key 2>/dev/null
third_pub=$(age-keygen -y third.key)
printf '# team\n%s\n\n%s\n' "$bm_pub" "$age_pub" >team.txt
"$BOOTMETA" age encrypt -R team.txt -r "$third_pub" -o multi.bm.age multi.bin
for k in age.key third.key; do
	age -d -i "$k" multi.bm.age >out.bin
	same multi.bin out.bin "age -d -i $k of a bootmeta file to three recipients"
done
"$BOOTMETA" age decrypt -i bm.key multi.bm.age >out.bin
same multi.bin out.bin "bootmeta decrypt of its own three-recipient file"
age -r "$age_pub" -r "$third_pub" -r "$bm_pub" -o multi.age small.txt
"$BOOTMETA" age decrypt -i bm.key multi.age >out.txt
same small.txt out.txt "bootmeta decrypt of age's three-recipient file"
cat age.key bm.key >both.key
age -r "$bm_pub" small.txt | "$BOOTMETA" age decrypt -i both.key >out.txt
same small.txt out.txt "bootmeta decrypt with a file of several identities"
age -r "$bm_pub" small.txt | "$BOOTMETA" age decrypt -i age.key -i bm.key >out.txt
same small.txt out.txt "bootmeta decrypt with several -i"
check "multiple recipients (-r, -R files) and identities, both ways"

# passphrases: bootmeta reads $BOOTMETA_PASSPHRASE; age reads only /dev/tty, so age runs
# under script(1), which gives it a pseudo-terminal fed from our pipe
BOOTMETA_PASSPHRASE='correct horse battery' "$BOOTMETA" age encrypt -p --work-factor 14 -o pp.age small.txt
grep -q '^-> scrypt [A-Za-z0-9+/]* 14$' pp.age || fail "passphrase file has no scrypt stanza with work factor 14"
BOOTMETA_PASSPHRASE='correct horse battery' "$BOOTMETA" age decrypt pp.age >out.txt
same small.txt out.txt "bootmeta passphrase round trip"
if BOOTMETA_PASSPHRASE='wrong' "$BOOTMETA" age decrypt -o wrong.out pp.age 2>err.txt; then fail "a wrong passphrase decrypted"; fi
grep -q "wrong passphrase" err.txt || fail "wrong passphrase: unclear message: $(cat err.txt)"
[ ! -e wrong.out ] || fail "a failed passphrase decrypt left its output file"
check "passphrase (-p, BOOTMETA_PASSPHRASE): round trip; a wrong one exits 1 clearly"
printf 'correct horse battery\n' | script -qec "age -d -o pp.out pp.age" /dev/null >/dev/null 2>&1 || true
[ -f pp.out ] || fail "age -d (passphrase on a pty) did not decrypt bootmeta's -p file"
same small.txt pp.out "age -d of bootmeta's passphrase file"
(sleep 1; printf 'tty pass 1\n'; sleep 1; printf 'tty pass 1\n'; sleep 1) |
	script -qec "age -p -o agepp.age small.txt" /dev/null >/dev/null 2>&1 || true
[ -f agepp.age ] || fail "age -p on a pty produced no file"
BOOTMETA_PASSPHRASE='tty pass 1' "$BOOTMETA" age decrypt agepp.age >out.txt
same small.txt out.txt "bootmeta decrypt of age -p's file (work factor 18)"
check "passphrase interop: age -d decrypts bootmeta -p; bootmeta decrypts age -p (age on a pty via script)"

# wrong key
other_key=other.key
"$BOOTMETA" age keygen -o "$other_key" 2>/dev/null
if "$BOOTMETA" age decrypt -i "$other_key" -o wrong.out small.txt.age 2>err.txt; then fail "decrypt with the wrong key succeeded"; fi
grep -q "no identity matched" err.txt || fail "wrong key: unclear message: $(cat err.txt)"
[ ! -e wrong.out ] || fail "decrypt with the wrong key left an output file"
check "wrong key -> exit 1, 'no identity matched', no output file"

# tampered payload (last byte) and header: exit 1, no output file, nothing half-written
cp multi.bin.age tampered.age
size=$(stat -c %s tampered.age)
printf '\001' | dd of=tampered.age bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
cmp -s multi.bin.age tampered.age && printf '\002' | dd of=tampered.age bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
set +e
"$BOOTMETA" age decrypt -i bm.key -o tampered.out tampered.age 2>err.txt
rc=$?
set -e
[ "$rc" = 1 ] || fail "tampered payload: exit $rc, want 1"
grep -q "does not authenticate" err.txt || fail "tampered payload: unclear message: $(cat err.txt)"
[ ! -e tampered.out ] || fail "tampered payload left an output file"
ls -a | grep -q '\.bootmeta-' && fail "a temporary output file was left behind"
sed 's/^-> X25519 \(.\)/-> X25519 A/' small.txt.age >tampered2.age
if cmp -s small.txt.age tampered2.age; then sed 's/^-> X25519 \(.\)/-> X25519 B/' small.txt.age >tampered2.age; fi
if "$BOOTMETA" age decrypt -i bm.key -o tampered2.out tampered2.age 2>err.txt; then fail "tampered header decrypted"; fi
[ ! -e tampered2.out ] || fail "tampered header left an output file"
head -c 1000 multi.bin.age >truncated.age
if "$BOOTMETA" age decrypt -i bm.key -o trunc.out truncated.age 2>err.txt; then fail "truncated file decrypted"; fi
grep -q "truncated\|does not authenticate" err.txt || fail "truncated file: unclear message: $(cat err.txt)"
[ ! -e trunc.out ] || fail "truncated file left an output file"
check "tampered payload, tampered header, truncated file -> exit 1, clear message, no output file"

# identity file permissions
cp bm.key open.key
chmod 640 open.key
set +e
"$BOOTMETA" age decrypt -i open.key small.txt.age >/dev/null 2>err.txt
rc=$?
set -e
[ "$rc" = 1 ] || fail "group-readable identity file: exit $rc, want 1"
grep -q "permissions 0640 for open.key are too open" err.txt || fail "group-readable identity: unclear message: $(cat err.txt)"
grep -q "chmod 600 open.key" err.txt || fail "group-readable identity: no chmod advice: $(cat err.txt)"
check "a group-readable identity file is refused with 'chmod 600' advice"

# usage errors exit 2
set +e
"$BOOTMETA" age encrypt small.txt >/dev/null 2>&1; rc1=$?
"$BOOTMETA" age frobnicate >/dev/null 2>&1; rc2=$?
"$BOOTMETA" age encrypt -r notakey small.txt >/dev/null 2>err.txt; rc3=$?
set -e
[ "$rc1" = 2 ] || fail "encrypt without recipients: exit $rc1, want 2"
[ "$rc2" = 2 ] || fail "unknown subcommand: exit $rc2, want 2"
[ "$rc3" = 1 ] || fail "bad recipient: exit $rc3, want 1"
grep -q "not an age recipient" err.txt || fail "bad recipient: unclear message: $(cat err.txt)"
"$BOOTMETA" age --help | grep -q "bootmeta age encrypt" || fail "bootmeta age --help shows no usage"
check "usage errors exit 2, a bad recipient exits 1 clearly, --help exits 0"

echo "t_age_interop: all $n checks passed"
