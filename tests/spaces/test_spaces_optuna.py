"""The Optuna round trip for every catalog space: suggest -> params -> config -> built model.

Grid spaces: every `grid()` point is enqueued in an in-memory study (as a grid study does),
`suggest(trial)` must reproduce it exactly, and the point must map to a config that builds.
Continuous spaces: points drawn by Random and TPE samplers must map to configs that build.
Building is done once per distinct config with the sizes shrunk (hidden 4, state 4, one
block): a config that validates builds (STYLE.md), and the sizes only change array shapes;
the largest point of the headline grids is also built at full size.
"""

import dataclasses

import jax
import optuna
import pytest

from ssmtune import models, spaces

optuna.logging.set_verbosity(optuna.logging.WARNING)

NAMES = spaces.names()


def _tiny(config):
    return config.replace(hidden=4, state=4, blocks=1)


def _build_all(configs):
    built = 0
    for config in {_tiny(c) for c in configs}:
        model = models.build(config, key=jax.random.key(0))
        assert model is not None
        built += 1
    return built


def _round_trip_grid(space):
    points = space.grid()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for point in points:
        study.enqueue_trial(point)
    suggested = []

    def objective(trial):
        point = space.suggest(trial)
        assert trial.params == point
        suggested.append(point)
        return 0.0

    study.optimize(objective, n_trials=len(points))
    assert suggested == points
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    dists = space.distributions()
    for trial in study.trials:
        assert all(dists[k] == d for k, d in trial.distributions.items())
    return [space.to_config(p)[0] for p in points]


def _round_trip_sampled(space, n=12):
    configs = []
    for sampler in (
        optuna.samplers.RandomSampler(seed=1),
        optuna.samplers.TPESampler(seed=1, n_startup_trials=4),
    ):
        study = optuna.create_study(sampler=sampler)

        def objective(trial):
            point = space.suggest(trial)
            assert trial.params == point
            config, options = space.to_config(point)
            configs.append(config)
            return float(options.lr)

        study.optimize(objective, n_trials=n)
    dists = space.distributions()
    for trial in study.trials:
        assert all(dists[k] == d for k, d in trial.distributions.items())
    return configs


@pytest.mark.parametrize("name", NAMES)
def test_round_trip(catalog, name):
    space = catalog[name]
    configs = _round_trip_grid(space) if space.finite else _round_trip_sampled(space)
    assert {c.name for c in configs} <= set(space.models)
    for config in configs:
        assert isinstance(config, models.ModelConfig)
    assert _build_all(configs) >= 1


@pytest.mark.parametrize("name", ["linoss-full", "d-linoss-reduced"])
def test_largest_point_builds_at_full_size(catalog, name):
    space = catalog[name]
    point = max(space.grid(), key=lambda p: space.point_cost(p, 100))
    config, options = space.to_config(point)
    assert (config.blocks, config.hidden, config.state) == (6, 128, 256)
    model = models.build(config, key=jax.random.key(0))
    assert len(model.blocks) == 6


@pytest.mark.parametrize(
    "name", [n for n in NAMES if spaces.get(n).finite and not spaces.get(n).conditional]
)
def test_grid_sampler_visits_the_grid(catalog, name):
    space = catalog[name]
    sampler = optuna.samplers.GridSampler(space.grid_search_space(), seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: (space.to_config(space.suggest(t)), 0.0)[1], n_trials=space.size)

    def key(params):
        return tuple(sorted(params.items()))

    assert {key(t.params) for t in study.trials} == {key(p) for p in space.grid()}


def test_grid_sampler_rejects_conditional_spaces(catalog):
    with pytest.raises(spaces.SpaceError, match="enqueue"):
        catalog["auto"].grid_search_space()


def test_to_config_uses_the_training_options(catalog):
    config, options = catalog["s4"].to_config(catalog["s4"].grid()[0])
    assert isinstance(options, models.TrainOptions)
    assert (options.optimizer, options.weight_decay, options.ssm_lr) == ("adamw", 0.05, 1e-3)
    assert config.blocks == 6 and config.dt_max == 0.1
    _, options = catalog["linoss-full"].to_config(catalog["linoss-full"].grid()[0])
    assert options.include_time is True and options.lr == 1e-5


def test_to_config_sets_the_task_fields(catalog):
    @dataclasses.dataclass
    class Info:  # the fields of tasks.TaskInfo that fit_config reads
        channels: int = 6
        classes: int = 5
        kind: str = "classification"

    space = catalog["d-linoss-reduced"]
    point = space.grid()[0]
    assert point["include_time"] is True
    config, _ = space.to_config(point, task_info=Info())
    assert (config.in_channels, config.out_dim, config.head) == (7, 5, "classification")
