#!/bin/sh
# The README's main job (filled in once the study commands land).
set -eu
.venv/bin/ssmtune version
