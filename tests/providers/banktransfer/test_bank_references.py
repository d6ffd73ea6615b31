"""Transfer references: the check character catches typos, and references survive remittance noise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.errors import InvalidValue
from boxoffice.providers.banktransfer.references import (
    ALPHABET,
    check_character,
    damm_step,
    event_prefix,
    find_checked_codes,
    find_plain_codes,
    find_references,
    is_valid_reference,
    make_reference,
    order_code_of,
)

SYMBOLS = range(len(ALPHABET))
codes = st.text(alphabet=ALPHABET, min_size=5, max_size=5)


# --- the check character: the two table facts that make it catch every single typo and swap -------


def test_each_row_and_column_of_the_check_table_is_a_permutation() -> None:
    # Rows: a different symbol from the same state gives a different state (substitutions show).
    # Columns: different states stay different after any symbol (the difference is never lost).
    for state in SYMBOLS:
        assert sorted(damm_step(state, symbol) for symbol in SYMBOLS) == list(SYMBOLS)
    for symbol in SYMBOLS:
        assert sorted(damm_step(state, symbol) for state in SYMBOLS) == list(SYMBOLS)


def test_the_check_table_is_totally_anti_symmetric() -> None:
    # (s∘a)∘b == (s∘b)∘a only for a == b: swapping two neighbours always changes the state.
    for state in SYMBOLS:
        for a in SYMBOLS:
            for b in SYMBOLS:
                if a != b:
                    assert damm_step(damm_step(state, a), b) != damm_step(damm_step(state, b), a)


@given(codes)
def test_every_single_substitution_in_code_or_check_is_rejected(code: str) -> None:
    reference = make_reference("demo-conf", code)
    body = reference.split("-")[1]
    for position in range(len(body)):
        for symbol in ALPHABET:
            if symbol != body[position]:
                typo = body[:position] + symbol + body[position + 1 :]
                assert not is_valid_reference(f"DEMOCO-{typo}")


@given(codes)
def test_every_adjacent_transposition_in_code_or_check_is_rejected(code: str) -> None:
    body = make_reference("demo-conf", code).split("-")[1]
    for position in range(len(body) - 1):
        a, b = body[position], body[position + 1]
        if a != b:
            swapped = body[:position] + b + a + body[position + 2 :]
            assert not is_valid_reference(f"DEMOCO-{swapped}")


# --- making and reading references ----------------------------------------------------------------


def test_reference_is_event_prefix_dash_code_and_check_character() -> None:
    assert make_reference("demo-conf", "K7M2Q") == "DEMOCO-K7M2Q" + check_character("K7M2Q")
    assert make_reference("demo-conf", "K7M2Q") == "DEMOCO-K7M2QL"


@pytest.mark.parametrize(
    ("slug", "prefix"),
    [
        ("demo-conf", "DEMOCO"),
        ("pycon", "PYCON"),
        ("über-konferenz-2024", "UBERKO"),
        ("a", "A"),
        ("日本語", "BO"),
        ("2024", "2024"),
    ],
)
def test_event_prefix_is_the_slug_in_ascii_capitals_cut_to_six(slug: str, prefix: str) -> None:
    assert event_prefix(slug) == prefix


@pytest.mark.parametrize("code", ["K7M2", "K7M2QX", "K7M2O", "K7M21", "k7m2q", ""])
def test_make_reference_refuses_what_is_not_an_order_code(code: str) -> None:
    with pytest.raises(InvalidValue):
        make_reference("demo-conf", code)


@pytest.mark.parametrize("text", ["DEMOCO-K7M2QL", "democo-k7m2ql", "DEMOCO K7M2 QL", " DEMOCOK7M2QL ", "X-K7M2QL"])
def test_valid_references_in_any_case_and_spacing(text: str) -> None:
    assert is_valid_reference(text)
    assert order_code_of(text) == "K7M2Q"


@pytest.mark.parametrize(
    "text",
    ["DEMOCO-K7M2QA", "K7M2QL", "DEMOCO-K7M2Q", "TOOLONGPREFIX-K7M2QL", "DEMOCO-K7M2OL", "", "DEMOCO/K7M2QL"],
)
def test_invalid_references_are_refused(text: str) -> None:
    assert not is_valid_reference(text)
    with pytest.raises(InvalidValue):
        order_code_of(text)


# --- finding references in remittance noise -------------------------------------------------------


@pytest.mark.parametrize(
    "remittance",
    [
        "Überweisung BO-DEMOCO K7M2QL danke",
        "SVWZ+DEMOCO-K7M2QL EREF+NOTPROVIDED",
        "democo-k7m2ql",
        "Ticket DEM0C0-K7M2-QL vielen Dank",  # zeros typed for the prefix's O
        "DEMOCO\nK7M2Q\nL",  # line breaks of a narrow bank export
        "DEMOCO.K7M2QL.",
        "Ref: DEMOCO \u2013 K7M2QL",  # en dash
    ],
)
def test_reference_is_found_in_noise(remittance: str) -> None:
    assert find_references(remittance, "demo-conf") == ["DEMOCO-K7M2QL"]


def test_prefix_confusions_map_back_both_ways() -> None:
    # A slug with digits: a buyer typing O for 0 or I for 1 still finds the reference.
    reference = make_reference("conf-2010", "K7M2Q")
    assert reference.startswith("CONF20-")
    assert find_references("CONF2O-K7M2QL", "conf-2010") == [reference]
    assert find_references("conf-20 k7m2ql", "conf-2010") == [reference]


@pytest.mark.parametrize(
    "remittance",
    [
        "DEMOCO-K7M2QA",  # wrong check character
        "XDEMOCO-K7M2QL",  # prefix does not start a word
        "DEMOCO-K7M2QLX",  # check character does not end a word
        "PYCON-K7M2QL",  # another event's prefix
        "DEMOCO-K7M2OL",  # O is not in the code alphabet
        "",
    ],
)
def test_non_references_are_not_found(remittance: str) -> None:
    assert find_references(remittance, "demo-conf") == []


def test_several_references_are_returned_once_each_in_order() -> None:
    first, second = make_reference("demo-conf", "P3RTA"), make_reference("demo-conf", "ZZ9AB")
    text = f"{second.lower()} und {first} und nochmal {second}"
    assert find_references(text, "demo-conf") == [second, first]


separators = st.sampled_from(["", " ", "-", "\n", " - ", ".", "  "])


@given(code=codes, data=st.data())
def test_any_reference_survives_case_separators_and_prefix_confusions(code: str, data: st.DataObject) -> None:
    reference = make_reference("demo-conf", code)
    mangled = ""
    for index, char in enumerate(reference.replace("-", "")):
        if index < 6 and char in "OI":
            char = data.draw(st.sampled_from({"O": "O0o", "I": "I1i"}[char]))
        mangled += data.draw(separators) if index else ""
        mangled += char.lower() if data.draw(st.booleans()) else char
    noise = data.draw(st.sampled_from(["Überweisung", "Rechnung 2024/17", "Danke!", "", "EREF+"]))
    found = find_references(f"{noise} {mangled} {noise}", "demo-conf")
    assert reference in found
    assert all(is_valid_reference(r) for r in found)


def test_codes_without_prefix_are_found_only_with_a_valid_check_character() -> None:
    assert find_checked_codes("Bestellung K7M2QL danke") == ["K7M2Q"]
    assert find_checked_codes("Bestellung K7M2QA danke") == []
    assert find_checked_codes("K7M2QL k7m2ql") == ["K7M2Q"]


def test_plain_codes_are_five_character_words_of_the_alphabet() -> None:
    assert find_plain_codes("Order k7m2q, thanks HELLO DANKE") == ["K7M2Q", "DANKE"]
    assert find_plain_codes("HELLO WORLD K7M2QL") == []  # O is not in the alphabet; 6 letters is no code
