#!/bin/sh
# The type checker over the installed names. The folders are installed as `ssmtune.models`,
# `ssmtune.search`, ... (pyproject's package-dir), which mypy cannot see through setuptools'
# editable import hook; so mypy reads a tree of links, build/typecheck/ssmtune/, that lays the
# folders out as the package is installed, and names each module as Python imports it
# (`ssmtune.models._loop`). The links are remade at each call; nothing in them is a copy.
set -eu
cd "$(dirname "$0")/.."
tree=build/typecheck/ssmtune
rm -rf build/typecheck
mkdir -p "$tree"
ln -s ../../../ssmtune/__init__.py "$tree/__init__.py"
ln -s ../../../ssmtune/py.typed "$tree/py.typed"
for package in models tasks spaces studies search benchmarks; do
    ln -s "../../../$package" "$tree/$package"
done
exec "${MYPY:-.venv/bin/mypy}" "$@"
