#!/bin/sh
# The README's main job: D-LinOSS's reduced grid (162 points) against LinOSS's full grid (324)
# on the embedded BasicMotions task, each searched by random sampling for the same compute
# budget on a local Ray with the default SQLite storage, then compared from the database.
set -eu
SSMTUNE=.venv/bin/ssmtune
TASK=${SSMTUNE_DEMO_TASK:-basicmotions}
BUDGET=${SSMTUNE_DEMO_BUDGET_HOURS:-0.08}
PROTOCOL="--max-steps 100 --eval-every 25 --patience 2"
for SPACE in d-linoss-reduced linoss-full; do
    $SSMTUNE study start --task "$TASK" --space "$SPACE" --sampler random --n-trials 40 \
        --budget-hours "$BUDGET" $PROTOCOL --workers 2 --seed 2345
done
$SSMTUNE compare --task "$TASK" linoss-full d-linoss-reduced
echo
echo "Results are in ssmtune.db (SQLite, Optuna's schema). Look at them with:"
echo "  $SSMTUNE report --task $TASK --out ssmtune-results   # tables and plots"
echo "  $SSMTUNE best --task $TASK                           # best configs"
echo "  $SSMTUNE dashboard                                    # optuna-dashboard on http://127.0.0.1:8080"
