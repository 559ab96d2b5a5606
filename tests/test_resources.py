"""Resources are checked before they are spent: the estimate against what is available."""

from functools import partial

import pytest
from badinput import bad_input_test, case

from ddlib.resources import InsufficientMemory, available_memory, check_memory


def test_limit_caps_available_memory_and_refusal_says_what_fits(monkeypatch):
    assert available_memory() > 0
    monkeypatch.setenv("DDLIB_MEMORY_LIMIT", "1.5G")
    assert available_memory() == int(1.5 * 2**30)
    check_memory(2**30, param="L", what="a computation", counted="1 GiB")  # fits: no error
    with pytest.raises(InsufficientMemory, match=r"L: a computation needs about 2.15 GB "
                                                 r"\(2 GiB\).*largest that fits is L = 7"):
        check_memory(2**31, param="L", what="a computation", counted="2 GiB",
                     largest="L = 7")


BAD_INPUTS = [  # check_memory's own ``param`` is bound first (case() takes ``param`` itself)
    case(partial(check_memory, param="L", what="a computation", counted="everything"), 1e30,
         param="L"),
    case(partial(check_memory, param="N", what="a computation", counted="everything"), 1e30,
         param="N", exc=MemoryError),
    case(partial(check_memory, param="L", what="a computation", counted="everything"), "1 GB",
         param="need"),
    case(partial(check_memory, param="L", what="a computation", counted="everything"),
         float("nan"), param="need"),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)


def test_a_malformed_limit_is_named(monkeypatch):
    monkeypatch.setenv("DDLIB_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="DDLIB_MEMORY_LIMIT"):
        available_memory()
