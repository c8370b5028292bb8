"""Running the course: what sits around the notebooks rather than in the data flow.

* :mod:`~mammokit.course.params`: each notebook's parameters, checked and resolved (the setup
  cell's ``mk.params.resolve``); :mod:`~mammokit.course.notebook`: the house layout of a notebook;
  :mod:`~mammokit.course.timings`: measured times. The profiles and their settings are
  :mod:`mammokit.profiles` (low in the package, so the recipes read them too).
* :mod:`~mammokit.course.runner`: run the notebooks headless (``mammokit course``);
  :mod:`~mammokit.course.sweep`: one notebook over a grid of parameters (``mammokit sweep``);
  :mod:`~mammokit.course.summary`: the run's metrics as one table.
* :mod:`~mammokit.course.masters`: the course as text (``notebooks/solutions/*.md``) into exercise checks and otter masters (``mammokit masters``);
  :mod:`~mammokit.course.grading`: student notebooks, autograders and grades
  (``mammokit assign``, ``mammokit grade``).

These may use any pipeline module; no pipeline module imports them. Import the submodule you
need (``from mammokit.course import params``); this package re-exports nothing.
"""
