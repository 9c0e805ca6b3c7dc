"""The old, private name of catalog/data.py (made public in issue 19). It is the same module object, so code and
tests written against `catalog._data` (including monkeypatching) keep working; new code imports catalog.data."""
import sys

from . import data

sys.modules[__name__] = data
