"""studies"""

from studies._best import best_trials, trial_record
from studies._compare import MIN_COMPLETE, compare
from studies._dashboard import dashboard_url, serve_dashboard
from studies._errors import StudyError
from studies._evaluation import (
    EVALUATION_SEEDS,
    evaluation_plan,
    evaluation_seeds,
    store_evaluation,
    summarize_evaluation,
)
from studies._expected import (
    ESTIMATORS,
    REPORT_KS,
    dodge_weights,
    expected_best,
    expected_best_at_cost,
    expected_best_curve,
    tang_weights,
    trials_to_within,
)
from studies._query import load_studies
from studies._report import DEFAULT_WITHIN, report, study_summary, write_report

__all__ = [
    "StudyError",
    # answers from the studies (report worker)
    "best_trials",
    "trial_record",
    "MIN_COMPLETE",
    "compare",
    "dashboard_url",
    "serve_dashboard",
    "EVALUATION_SEEDS",
    "evaluation_plan",
    "evaluation_seeds",
    "store_evaluation",
    "summarize_evaluation",
    "ESTIMATORS",
    "REPORT_KS",
    "dodge_weights",
    "expected_best",
    "expected_best_at_cost",
    "expected_best_curve",
    "tang_weights",
    "trials_to_within",
    "load_studies",
    "DEFAULT_WITHIN",
    "report",
    "study_summary",
    "write_report",
]
