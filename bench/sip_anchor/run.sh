#!/bin/sh
# The kamailio + rtpengine anchor of bench/sip_ramp.ts (Debian 12 packages, userspace RTP):
# sipp UAC (uac_pcap, the same scenario and rates) -> kamailio :25070 -> sipp UAS :25080
# (tests/sip/scenarios/uas_anchor.xml: answers PCMA, tolerates a retransmitted INVITE, no RTP echo), rtpengine relaying
# every call's RTP (one packet out per packet in, as the gateway sends one back per packet).
#   sh bench/sip_anchor/run.sh "25 50 100 200" 20
set -eu
for BIN in kamailio rtpengine sipp; do
  command -v "$BIN" >/dev/null || { echo "$BIN is missing: apt-get install -y kamailio rtpengine-daemon sip-tester" >&2; exit 1; }
done
RATES=${1:-"25 50 100"}
SECONDS_PER_RATE=${2:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
rtpengine --interface=127.0.0.1 --listen-ng=127.0.0.1:22222 --port-min=40000 --port-max=49999 \
  --table=-1 --foreground --log-stderr --log-level=3 2>"$TMP/rtpengine.log" &
RTPENGINE=$!
sleep 1
kamailio -f "$HERE/kamailio.cfg" -DD -E 2>"$TMP/kamailio.log" &
KAMAILIO=$!
sipp -sf "$HERE/../../tests/sip/scenarios/uas_anchor.xml" -i 127.0.0.1 -p 25080 -mp 26000 -nostdin >/dev/null 2>&1 &
UAS=$!
# The CPU of the anchor's two processes (kamailio's children included), from /proc.
cpu() { for P in "$KAMAILIO" "$RTPENGINE"; do
  for C in $P $(cat /proc/$P/task/*/children 2>/dev/null); do
    awk '{ print $14 + $15 }' /proc/$C/stat 2>/dev/null; done; done | awk '{ s += $1 } END { print s }'; }
sleep 1
# The rate sipp achieved (as bench/_sipp_load.ts sippPlacedRate): calls over the seconds until
# the first 1 s statistics row that counts them all placed.
placed() { awk -F';' -v calls="$2" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  $col["OutgoingCall(C)"] >= calls { split($col["StartTime"], s, "\t"); split($col["CurrentTime"], c, "\t");
    printf "%.0f", calls / (c[3] - s[3]); exit }' "$1"; }
echo "| rate (calls/s) | placed (calls/s) | calls | successful | failed | retransmissions | kamailio+rtpengine CPU (share of one core) | CPU ms/call | load (1 min) |"
echo "| -------------- | ---------------- | ----- | ---------- | ------ | --------------- | ------------------------------------------ | ----------- | ------------ |"
for RATE in $RATES; do
  CALLS=$((RATE * SECONDS_PER_RATE))
  C0=$(cpu); T0=$(date +%s.%N)
  OUT=$(timeout "$((SECONDS_PER_RATE + 120))" sipp -sf "$HERE/../../tests/sip/scenarios/uac_pcap.xml" -s +14155550199 -i 127.0.0.1 -p 0 \
    -mp 0 -r "$RATE" -l 2500 -m "$CALLS" -nostdin -trace_stat -stf "$TMP/stat_$RATE.csv" -fd 1 \
    127.0.0.1:25070 2>&1 || true)
  OK=$(echo "$OUT" | sed -n 's/^ *Successful call *| *[0-9]* *| *\([0-9]*\).*/\1/p' | tail -1)
  FAILED=$(echo "$OUT" | sed -n 's/^ *Failed call *| *[0-9]* *| *\([0-9]*\).*/\1/p' | tail -1)
  COL=$(head -1 "$TMP/stat_$RATE.csv" | tr ';' '\n' | grep -n '^Retransmissions(C)$' | cut -d: -f1)
  RETRANS=$(tail -1 "$TMP/stat_$RATE.csv" | cut -d';' -f"$COL")
  C1=$(cpu); T1=$(date +%s.%N)
  SHARE=$(echo "$C0 $C1 $T0 $T1" | awk '{ printf "%.2f", ($2 - $1) / 100 / ($4 - $3) }')
  PER_CALL=$(echo "$C0 $C1 $CALLS" | awk '{ printf "%.1f", ($2 - $1) * 10 / $3 }')
  echo "| $RATE | $(placed "$TMP/stat_$RATE.csv" "$CALLS") | $CALLS | $OK | $FAILED | $RETRANS | $SHARE | $PER_CALL | $(cut -d' ' -f1 /proc/loadavg) |"
  sleep 15
done
kill "$UAS" "$KAMAILIO" "$RTPENGINE" 2>/dev/null || true
wait 2>/dev/null || true
rm -rf "$TMP"
