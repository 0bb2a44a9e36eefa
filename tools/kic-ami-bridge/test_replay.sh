#!/bin/sh
# The bridge's live AMI path against kic-ami-replay: login (with a wrong
# secret first: refused), the stream written in 333-byte pieces, four
# dropped connections after which, as with Asterisk, the cut message and
# the next 25 are lost. The drop at 544200 cuts scenario 8's AgentComplete
# (1795350015.45) and loses its caller's Hangup: only the channel list the
# bridge asks for after each reconnect (CoreShowChannels) can end that
# call. The live output must be exactly what --map-file gives for the bytes
# the bridge received (the stand-in's --sent, with its replies), must
# differ from the whole recording's (events really were lost), and must
# give every contact offered an outcome.
# usage: test_replay.sh BIN_DIR RECORDING
set -eu
bin=$1
rec=$2
tmp=$(mktemp -d)
replay=
bridge=
# only what is still ours: a pid of a process that ended may be another's
stop_ours() {
  for p in $replay $bridge; do
    case $(cat "/proc/$p/comm" 2>/dev/null) in kic-ami-*) kill "$p" 2>/dev/null || true ;; esac
  done
}
trap 'stop_ours; rm -rf "$tmp"' EXIT
"$bin/kic-ami-bridge" --map-file "$rec" >"$tmp/whole" 2>/dev/null
"$bin/kic-ami-replay" --file "$rec" --chunk 333 --drop-at 100000 --drop-at 400001 \
  --drop-at 544200 --drop-at 700000 --lose 25 --secret test --sent "$tmp/sent" \
  >"$tmp/replay.out" 2>"$tmp/replay.log" &
replay=$!
i=0
until grep -q listening "$tmp/replay.out" 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 100 ] || { echo "replay did not start"; exit 1; }; sleep 0.1
done
port=$(sed -n 's/listening on 127.0.0.1://p' "$tmp/replay.out")
# a wrong secret: Asterisk's refusal, logged as such
KIC_AMI_USER=test KIC_AMI_SECRET=wrong timeout 2 "$bin/kic-ami-bridge" --stdout \
  --ami "127.0.0.1:$port" >/dev/null 2>"$tmp/refused.log" || true
grep -q "refused: Authentication failed" "$tmp/refused.log" ||
  { echo "a wrong secret was not refused"; cat "$tmp/refused.log"; exit 1; }
KIC_AMI_USER=test KIC_AMI_SECRET=test "$bin/kic-ami-bridge" --stdout --ami "127.0.0.1:$port" \
  --log-level debug >"$tmp/got" 2>"$tmp/bridge.log" &
bridge=$!
i=0
until grep -q "all .* bytes sent" "$tmp/replay.log"; do
  i=$((i + 1)); [ $i -lt 600 ] || { echo "replay never finished"; cat "$tmp/replay.log"; exit 1; }
  sleep 0.1
done
sleep 1
kill -TERM $bridge
wait $bridge || { echo "bridge exit $?"; cat "$tmp/bridge.log"; exit 1; }
bridge=
reconnects=$(grep -c "logged in as" "$tmp/bridge.log")
[ "$reconnects" -eq 5 ] || { echo "expected 5 AMI logins, saw $reconnects"; cat "$tmp/bridge.log"; exit 1; }
lists=$(grep -c "^Event: CoreShowChannelsComplete" "$tmp/sent" || true)
[ "$lists" -eq 4 ] || { echo "expected 4 channel lists (one per reconnect) in --sent, saw $lists"; exit 1; }
"$bin/kic-ami-bridge" --map-file "$tmp/sent" >"$tmp/expected" 2>/dev/null
[ -s "$tmp/expected" ] || { echo "--map-file gave nothing"; exit 1; }
if cmp -s "$tmp/whole" "$tmp/expected"; then
  echo "nothing was lost at the drops"; exit 1
fi
if ! diff "$tmp/expected" "$tmp/got"; then
  echo "the live path differs from --map-file"; cat "$tmp/bridge.log" | tail -20; exit 1
fi
# every contact offered has an outcome (as test_ami_map's
# every_contact_has_one_outcome): ended, abandoned or transferred
sed -n 's/.*"method":"call\.offered".*"call_id":"\([^"]*\)".*/\1/p' "$tmp/got" | sort -u >"$tmp/offered"
sed -nE 's/.*"method":"call\.(ended|abandoned|transferred)".*"call_id":"([^"]*)".*/\2/p' \
  "$tmp/got" | sort -u >"$tmp/decided"
open=$(comm -23 "$tmp/offered" "$tmp/decided")
[ -s "$tmp/offered" ] && [ -z "$open" ] ||
  { echo "contacts offered without an outcome: $open"; tail -20 "$tmp/bridge.log"; exit 1; }
grep -q '"method":"call.ended".*"call_id":"1795350015.45"' "$tmp/got" ||
  { echo "1795350015.45, whose end was lost, was not ended"; exit 1; }
echo "ok: $(wc -l <"$tmp/got") events, $reconnects AMI logins, $(wc -l <"$tmp/offered") contacts decided"
