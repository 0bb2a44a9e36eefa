#!/bin/sh
# The bridge's live AMI path against kic-ami-replay: login, the stream
# written in 333-byte pieces, three dropped connections resumed. It must
# give exactly the events --map-file gives for the same recording.
# usage: test_replay.sh BIN_DIR RECORDING
set -eu
bin=$1
rec=$2
tmp=$(mktemp -d)
replay=
bridge=
trap 'kill $replay $bridge 2>/dev/null || true; rm -rf "$tmp"' EXIT
"$bin/kic-ami-bridge" --map-file "$rec" >"$tmp/expected" 2>/dev/null
"$bin/kic-ami-replay" --file "$rec" --chunk 333 --drop-at 100000 --drop-at 400001 \
  --drop-at 700000 >"$tmp/replay.out" 2>"$tmp/replay.log" &
replay=$!
i=0
until grep -q listening "$tmp/replay.out" 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 100 ] || { echo "replay did not start"; exit 1; }; sleep 0.1
done
port=$(sed -n 's/listening on 127.0.0.1://p' "$tmp/replay.out")
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
[ "$reconnects" -eq 4 ] || { echo "expected 4 AMI logins, saw $reconnects"; cat "$tmp/bridge.log"; exit 1; }
[ -s "$tmp/expected" ] || { echo "--map-file gave nothing"; exit 1; }
if ! diff "$tmp/expected" "$tmp/got"; then
  echo "the live path differs from --map-file"; cat "$tmp/bridge.log" | tail -20; exit 1
fi
echo "ok: $(wc -l <"$tmp/got") events, $reconnects AMI logins"
