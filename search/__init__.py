"""search: turning a space into trials and running them on Ray.

`start_study` / `resume_study` check a request (`plan_study`: a `StudyRequest`) and how it runs
(an `Execution`), create or continue the study and run it: a runner hands its trials to Ray
workers (`search._runner`, `search._worker`) within its budget (`search._budget`), shapes
compiled once per worker (`search._batching`). Which sampler proposes points and which pruner
stops trials is search policy (`study_policy`). The objective a worker trains is pluggable
(``module:function`` with the signature of `train_objective`, loaded by `load_objective`). `evaluate_study` retrains a study's best config
over the benchmark's seeds. The ``ssmtune`` command line is `search.cli`.
"""

from ssmtune.search._evaluate import (
    PROTOCOLS,
    Evaluation,
    EvaluationError,
    Protocol,
    evaluate_study,
    evaluate_top,
    full_protocol,
    retrain_seeds,
)
from ssmtune.search._objective import (
    DEFAULT_OBJECTIVE,
    TrialContext,
    TrialOutcome,
    WorkerSpec,
    load_objective,
    train_objective,
)
from ssmtune.search._policy import PRUNERS, SAMPLERS, make_pruner, make_sampler, study_policy
from ssmtune.search._ray import ray_session, start_local_ray
from ssmtune.search._replay import (
    REPLAY_SAMPLERS,
    ReplayRun,
    ReplayTrial,
    check_replay,
    replay,
    replay_once,
)
from ssmtune.search._request import Execution, StudyRequest, plan_study
from ssmtune.search._start import resume_study, start_study

__all__ = [
    "StudyRequest",
    "Execution",
    "plan_study",
    "start_study",
    "resume_study",
    "SAMPLERS",
    "PRUNERS",
    "make_sampler",
    "make_pruner",
    "study_policy",
    "WorkerSpec",
    "TrialContext",
    "TrialOutcome",
    "DEFAULT_OBJECTIVE",
    "train_objective",
    "load_objective",
    "start_local_ray",
    "ray_session",
    "REPLAY_SAMPLERS",
    "ReplayRun",
    "ReplayTrial",
    "check_replay",
    "replay",
    "replay_once",
    "evaluate_study",
    "evaluate_top",
    "retrain_seeds",
    "full_protocol",
    "Evaluation",
    "EvaluationError",
    "Protocol",
    "PROTOCOLS",
]
