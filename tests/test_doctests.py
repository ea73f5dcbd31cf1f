"""The examples in module docstrings run and give what they show."""
import doctest
import importlib

import pytest

MODULES = ["tmsfield.coils.shell", "tmsfield.coils.deformation", "tmsfield.core.aabb", "tmsfield.core.optional",
           "tmsfield.head_models.surface_refine"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
