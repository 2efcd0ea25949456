"""ssmtune models: SSM layers (LinOSS, D-LinOSS, S4, S4D, HOPE, LRU), the shared backbone, one
registry from model name to config class and layer class, and training one config
(`train`) or K configs that differ only in traced values (`train_batch`), and the checkpoints
a killed run continues from (`Checkpoint`)."""

from ssmtune.models._backbone import Backbone
from ssmtune.models._checkpoint import Checkpoint, Resume, delete_checkpoints, latest_checkpoint
from ssmtune.models._compile import compilation_cache_dir
from ssmtune.models._config import (
    DLinOSSConfig,
    HOPEConfig,
    LinOSSConfig,
    LRUConfig,
    ModelConfig,
    S4Config,
    S4DConfig,
)
from ssmtune.models._data import fit_config
from ssmtune.models._errors import ConfigError
from ssmtune.models._layer import AbstractSSMLayer
from ssmtune.models._optimizer import descent_gradients, lr_factor, optimizer, ssm_labels
from ssmtune.models._options import Evaluation, TrainOptions, TrainResult, train_option_names
from ssmtune.models._registry import apply, build, config, config_class, field_names, layer, names
from ssmtune.models._scan import resolve_scan
from ssmtune.models._train import precompile, train
from ssmtune.models._vtrain import batch_key, compile_key, train_batch

__all__ = [
    "ConfigError",
    "ModelConfig",
    "LinOSSConfig",
    "DLinOSSConfig",
    "S4Config",
    "S4DConfig",
    "HOPEConfig",
    "LRUConfig",
    "Backbone",
    "AbstractSSMLayer",
    "names",
    "config",
    "config_class",
    "field_names",
    "build",
    "layer",
    "apply",
    "resolve_scan",
    "TrainOptions",
    "TrainResult",
    "Evaluation",
    "train",
    "precompile",
    "train_option_names",
    "fit_config",
    "train_batch",
    "batch_key",
    "compile_key",
    "ssm_labels",
    "optimizer",
    "lr_factor",
    "descent_gradients",
    "compilation_cache_dir",
    "Checkpoint",
    "Resume",
    "latest_checkpoint",
    "delete_checkpoints",
]
