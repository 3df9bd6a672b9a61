#!/usr/bin/env bash
# check_canary.sh CANARY MODE: runs the RTSan canary and checks the verdict.
# mutex / alloc must fail with a RealtimeSanitizer report naming the call
# (pthread_mutex_lock / malloc); clean must pass with no report.
set -u
canary="$1"
mode="$2"
err="$(mktemp)"
trap 'rm -f "$err"' EXIT
RTSAN_OPTIONS="halt_on_error=true:exitcode=86${RTSAN_SYMBOLIZER:+:external_symbolizer_path=$RTSAN_SYMBOLIZER}" \
    "$canary" "$mode" 2>"$err" >/dev/null
rc=$?
case "$mode" in
mutex) want="pthread_mutex_lock" ;;
alloc) want="malloc" ;;
*) want="" ;;
esac
if [ -z "$want" ]; then
    if [ "$rc" -ne 0 ] || grep -q RealtimeSanitizer "$err"; then
        echo "clean canary failed (exit $rc):"; cat "$err"; exit 1
    fi
    echo "clean canary: exit 0, no report"; exit 0
fi
if [ "$rc" -eq 0 ]; then
    echo "canary '$mode' exited 0: RTSan did not stop it"; cat "$err"; exit 1
fi
if ! grep -q "ERROR: RealtimeSanitizer" "$err" || ! grep -q "\`$want\`" "$err"; then
    echo "canary '$mode' exited $rc without a RealtimeSanitizer report naming $want:"; cat "$err"; exit 1
fi
echo "canary '$mode': exit $rc, RTSan reported $want"
grep -m3 -E "RealtimeSanitizer|Intercepted" "$err"
exit 0
