"""studies"""

from studies._best import best_trials, trial_record
from studies._bootstrap import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    TrialSample,
    boot_cost_to_reach,
    boot_expected_best,
    boot_expected_best_at_cost,
    boot_test_at_best,
    cost_to_reach,
    percentile_interval,
    ratio_verdict,
    resample_indices,
)
from studies._compare import MAX_RESAMPLES, MIN_COMPLETE, compare, default_target, trial_sample
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
    expected_best_weights,
    tang_weights,
    trials_to_within,
)
from studies._note import Verdict, update_note
from studies._optuna_internals import storage_of, trial_id_of
from studies._query import load_studies
from studies._report import DEFAULT_WITHIN, report, study_summary, write_report
from studies._status import (
    DEVICES_ATTR,
    device_factor,
    list_studies,
    study_cost_s,
    study_status,
    trial_cost_s,
)
from studies._storage import (
    DEFAULT_STORAGE,
    default_storage_url,
    is_sqlite,
    mask_url,
    normalize_url,
)
from studies._study import (
    PRUNERS,
    SAMPLERS,
    StudySettings,
    create_or_continue,
    default_study_name,
    enqueue_points,
    load_settings,
    load_study,
    make_pruner,
    make_sampler,
)

__all__ = [
    # storage, study creation and status (study worker)
    "DEFAULT_STORAGE",
    "default_storage_url",
    "is_sqlite",
    "mask_url",
    "normalize_url",
    "PRUNERS",
    "SAMPLERS",
    "StudySettings",
    "create_or_continue",
    "default_study_name",
    "enqueue_points",
    "load_settings",
    "load_study",
    "make_pruner",
    "make_sampler",
    "list_studies",
    "study_cost_s",
    "study_status",
    "trial_cost_s",
    "device_factor",
    "DEVICES_ATTR",
    "StudyError",
    "storage_of",
    "trial_id_of",
    # answers from the studies (report worker)
    "best_trials",
    "trial_record",
    "MIN_COMPLETE",
    "MAX_RESAMPLES",
    "compare",
    "default_target",
    "trial_sample",
    "DEFAULT_RESAMPLES",
    "DEFAULT_SEED",
    "TrialSample",
    "boot_cost_to_reach",
    "boot_expected_best",
    "boot_expected_best_at_cost",
    "boot_test_at_best",
    "cost_to_reach",
    "percentile_interval",
    "ratio_verdict",
    "resample_indices",
    "dashboard_url",
    "serve_dashboard",
    "Verdict",
    "update_note",
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
    "expected_best_weights",
    "tang_weights",
    "trials_to_within",
    "load_studies",
    "DEFAULT_WITHIN",
    "report",
    "study_summary",
    "write_report",
]
