"""Writing course notebooks in the house layout (used when authoring; tests check the result).

The setup cell is generated here from one repository URL, so every notebook's Colab
install line and badge stay the same when the repository moves.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable

import nbformat

from mammokit.course import params
from mammokit.errors import ConfigError
from mammokit.files import write_text

REPO = "mammokit/mammokit"  # GitHub owner/name: the one place it is written
REPO_URL = f"https://github.com/{REPO}"


def colab_badge(stem: str) -> str:
    url = f"https://colab.research.google.com/github/{REPO}/blob/main/notebooks/{stem}.ipynb"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def parameters_source(stem: str) -> str:
    """The tagged parameters cell: every knob of the notebook, ``None`` = profile default."""
    lines = ["# Parameters (papermill: -p NAME VALUE). None = the profile's default; see `mammokit params "
             f"{stem}`."]
    for p in params.spec(stem):
        lines.append(f"{p.name} = None  # {p.doc}")
    return "\n".join(lines)


def setup_source(stem: str) -> str:
    """Install the kit on Colab (elsewhere it is installed), mount Google Drive there when ``DRIVE``
    is set, then validate the parameters."""
    return "\n".join([
        "# Setup: on Google Colab install the kit first; locally and on Binder it is already there.",
        "import sys",
        'if "google.colab" in sys.modules:',
        f'    %pip install --quiet "mammokit @ git+{REPO_URL}"',
        "import mammokit as mk",
        'if "google.colab" in sys.modules and DRIVE:  # keep RUN_DIR on Google Drive: it outlives the Colab machine',
        "    from google.colab import drive",
        '    drive.mount("/content/drive")',
        "",
        f'P = mk.params.resolve("{stem}", globals())',
    ])


def _write(path: Path, nb) -> None:
    """What ``nbformat.write`` writes (text + final newline), atomically."""
    body = nbformat.writes(nb)
    write_text(path, body if body.endswith("\n") else body + "\n")


def enable_colab_widgets() -> bool:
    """On Colab, switch to its custom widget manager so the explorer's ipywidgets-8 controls render;
    elsewhere a no-op. True when it switched.

    Why: Colab's built-in manager has dropped ipywidgets-8 controls such as Checkbox (colabtools
    #3020) and asks for ``output.enable_custom_widget_manager()`` (colabtools #498); with it on,
    Accordion and Tab fail (colabtools #3571), which the explorer does not use. Call it in the
    cell that shows a widget (``mk.notebook.enable_colab_widgets()``), so ``setup_source`` — the
    second cell of every notebook — stays unchanged.
    """
    if "google.colab" not in sys.modules:
        return False
    try:
        from google.colab import output
        output.enable_custom_widget_manager()
    except (ImportError, AttributeError):  # an old or imitation Colab runtime: widgets may not render
        return False
    return True


def write_notebook(path: Path | str, intro: str, cells: Iterable[tuple[str, str]]) -> Path:
    """Write a clean notebook: intro markdown (badge added), parameters, setup, then ``cells``.

    ``cells`` are ``("md", text)`` or ``("code", source)`` pairs, in order.
    """
    path = Path(path)
    stem = path.stem
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    title, _, rest = intro.strip().partition("\n")
    nb.cells.append(nbformat.v4.new_markdown_cell(f"{title}\n\n{colab_badge(stem)}\n{rest}"))
    nb.cells.append(nbformat.v4.new_code_cell(parameters_source(stem), metadata={"tags": ["parameters"]}))
    nb.cells.append(nbformat.v4.new_code_cell(setup_source(stem)))
    for kind, text in cells:
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(text.strip()))
        elif kind == "code":
            nb.cells.append(nbformat.v4.new_code_cell(text.strip()))
        else:
            raise ConfigError(f"cell kind must be 'md' or 'code', got {kind!r}")
    number_cells(nb, stem)
    nbformat.validate(nb)
    _write(path, nb)
    return path


def number_cells(nb, stem: str, kind: str = "") -> None:
    """Give every cell the stable id ``NN-<kind>NNN`` (``kind``: "m" master, "s" student, "" plain):
    ids that never change between builds keep the committed notebooks' diffs to real edits."""
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{stem[:2]}-{kind}{i:03d}"
