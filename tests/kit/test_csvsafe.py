"""safe_cell keeps spreadsheets from running buyer-supplied text as formulas."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.kit.csvsafe import FORMULA_STARTS, safe_cell


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://evil.example")', "+1+1", "-2+3", "@SUM(A1:A2)", "\tcmd", "\r=1"],
)
def test_formula_starts_get_a_leading_quote(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Erika Mustermann", "", "DEMOCO-K7M2QL", "a=b", " =1", "'quoted"])
def test_other_text_is_unchanged(value: str) -> None:
    assert safe_cell(value) == value


@given(st.text())
def test_no_escaped_cell_starts_a_formula_and_nothing_else_changes(value: str) -> None:
    escaped = safe_cell(value)
    assert not escaped.startswith(FORMULA_STARTS)
    assert escaped in (value, "'" + value)
