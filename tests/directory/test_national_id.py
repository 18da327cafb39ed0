from __future__ import annotations

import pytest

from psc_idp.directory.national_id import (
    InvalidNationalId,
    luhn_is_valid,
    origin_of,
    parse_national_id,
    rpps_luhn_key,
    validate_national_id,
)

# Published sandbox and documentation identities.
PUBLISHED_RPPS = ["899700218896", "899700366240", "899700427885", "810100022408"]


@pytest.mark.parametrize("value", PUBLISHED_RPPS)
def test_published_rpps_ids_are_valid(value: str) -> None:
    parsed = parse_national_id(value)
    assert parsed == (value, "8", "RPPS", value[1:])


@pytest.mark.parametrize("value", PUBLISHED_RPPS)
def test_the_key_is_luhn_over_the_11_rpps_digits(value: str) -> None:
    assert rpps_luhn_key(value[1:11]) == value[11]
    assert luhn_is_valid(value[1:])
    # Not over the 12 characters with the type digit: that rule would reject the samples.
    assert not luhn_is_valid(value)


@pytest.mark.parametrize("value", ["899700218897", "899700218886", "810100022409"])
def test_wrong_rpps_key_is_refused(value: str) -> None:
    with pytest.raises(InvalidNationalId, match="clé de contrôle"):
        validate_national_id(value)


@pytest.mark.parametrize("value", ["89970021889", "8997002188960", "8997002188A6"])
def test_rpps_of_wrong_shape_is_refused(value: str) -> None:
    with pytest.raises(InvalidNationalId, match="RPPS"):
        validate_national_id(value)


def test_spaces_and_case_are_normalised() -> None:
    assert validate_national_id(" 8 99700 218896\n") == "899700218896"
    assert validate_national_id("30b0057881/cpet0002") == "30B0057881/CPET0002"


@pytest.mark.parametrize("value", ["0012600631", "02A1234567", "0999600123"])
def test_adeli_ids(value: str) -> None:
    parsed = parse_national_id(value)
    assert (parsed.id_type, parsed.origin, parsed.local_id) == ("0", "ADELI", value[1:])


@pytest.mark.parametrize("value", ["001260063", "00126006311", "0012X00631"])
def test_malformed_adeli_is_refused(value: str) -> None:
    with pytest.raises(InvalidNationalId, match="ADELI"):
        validate_national_id(value)


def test_staff_card_id() -> None:
    parsed = parse_national_id("30B0057881/CPET0002")
    assert (parsed.id_type, parsed.origin, parsed.local_id) == ("3", "FINESS", "0B0057881/CPET0002")


@pytest.mark.parametrize("value", ["30B0057881", "30B005788/CPET0002", "30B0057881/", "3/X"])
def test_malformed_staff_card_id_is_refused(value: str) -> None:
    with pytest.raises(InvalidNationalId, match="FINESS"):
        validate_national_id(value)


@pytest.mark.parametrize("value", ["1750000019", "4123456789/ABC", "5123", "6997001234/X1"])
def test_other_prefixes_are_accepted_loosely(value: str) -> None:
    assert validate_national_id(value) == value
    assert origin_of(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "vide"),
        ("   ", "vide"),
        ("7123", "Type d'identifiant inconnu"),
        ("ANS20220215183932", "Type d'identifiant inconnu"),
        ("8997'; DROP TABLE", "RPPS"),
        ("1<script>", "chiffres, lettres"),
        (None, "chaîne"),
        (899700218896, "chaîne"),
    ],
)
def test_garbage_is_refused_with_a_french_message(value: object, message: str) -> None:
    with pytest.raises(InvalidNationalId, match=message):
        validate_national_id(value)  # type: ignore[arg-type]


def test_huge_input_is_refused_quickly_without_echoing_it() -> None:
    huge = "8" * 1_000_000
    with pytest.raises(InvalidNationalId, match="trop long") as excinfo:
        validate_national_id(huge)
    assert len(str(excinfo.value)) < 200


def test_long_id_just_over_the_column_size_is_refused() -> None:
    with pytest.raises(InvalidNationalId, match="trop long"):
        validate_national_id("1" + "2" * 64)


def test_invalid_national_id_is_a_value_error() -> None:
    assert issubclass(InvalidNationalId, ValueError)


@pytest.mark.parametrize("value", ["", "123", "12345678901", "99700218a9"])
def test_rpps_luhn_key_wants_ten_digits(value: str) -> None:
    with pytest.raises(ValueError):
        rpps_luhn_key(value)


def test_rpps_luhn_key_generates_valid_ids() -> None:
    for prefix in ("9970010015", "9970099999", "1010002240"):
        assert validate_national_id("8" + prefix + rpps_luhn_key(prefix)).startswith("8" + prefix)
