"""Value objects: what each parser accepts, how it normalizes, and which field it blames when it refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.errors import ValidationFailed
from domain.values import (
    BRAZILIAN_STATES,
    CURRENCY,
    Address,
    AddressFields,
    Cep,
    Cnpj,
    Cpf,
    Email,
    ModelYear,
    Money,
    Phone,
    Quantity,
    required_text,
)

# --- CPF -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value", "display"),
    [
        ("123.456.789-09", "12345678909", "123.456.789-09"),
        ("12345678909", "12345678909", "123.456.789-09"),
        ("529.982.247-25", "52998224725", "529.982.247-25"),
        ("  111.444.777-35  ", "11144477735", "111.444.777-35"),
    ],
)
def test_cpf_with_valid_check_digits_is_normalized_to_digits(raw: str, value: str, display: str) -> None:
    # Given a CPF, formatted or bare, whose check digits are right
    # When it is parsed
    cpf = Cpf.parse(raw)
    # Then the value is the 11 digits and the display form is the formatted one
    assert cpf.value == value
    assert str(cpf) == display


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("123.456.789-19", "CPF is not valid"),  # first check digit wrong
        ("123.456.789-08", "CPF is not valid"),  # second check digit wrong
        ("111.111.111-11", "CPF is not valid"),  # repeated digits pass mod 11 but are never issued
        ("00000000000", "CPF is not valid"),
        ("123.456.789-0A", "CPF may contain only digits, dots and a dash"),
        ("123 456 789 09", "CPF may contain only digits, dots and a dash"),
        ("123/456/789-09", "CPF may contain only digits, dots and a dash"),
        ("١٢٣٤٥٦٧٨٩٠٩", "CPF may contain only digits, dots and a dash"),  # Arabic-Indic digits
        ("1234567890", "CPF must have 11 digits"),
        ("123456789091", "CPF must have 11 digits"),
        ("", "CPF may contain only digits, dots and a dash"),
    ],
)
def test_invalid_cpf_is_refused_naming_the_field(raw: str, message: str) -> None:
    # Given a malformed CPF
    # When it is parsed
    with pytest.raises(ValidationFailed) as caught:
        Cpf.parse(raw, field="customer.cpf")
    # Then the error names the field and says what is wrong
    assert caught.value.field == "customer.cpf"
    assert caught.value.message == message
    assert caught.value.code == "VALIDATION"


def test_cpf_default_field_is_cpf() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Cpf.parse("123")
    assert caught.value.field == "cpf"


# --- CNPJ ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value", "display"),
    [
        # Well-known numeric examples.
        ("11.222.333/0001-81", "11222333000181", "11.222.333/0001-81"),
        ("11444777000161", "11444777000161", "11.444.777/0001-61"),
        ("12.345.678/0001-95", "12345678000195", "12.345.678/0001-95"),
        # The alphanumeric example from the Receita Federal's documentation.
        ("12.ABC.345/01DE-35", "12ABC34501DE35", "12.ABC.345/01DE-35"),
        ("12ABC34501DE35", "12ABC34501DE35", "12.ABC.345/01DE-35"),
        ("12.abc.345/01de-35", "12ABC34501DE35", "12.ABC.345/01DE-35"),
        # Check digits computed with the IN 2.229/2024 algorithm.
        ("A1B2C3D4E5F668", "A1B2C3D4E5F668", "A1.B2C.3D4/E5F6-68"),
        ("AB.CDE.FGH/IJKL-80", "ABCDEFGHIJKL80", "AB.CDE.FGH/IJKL-80"),
        ("z9y8x7w6v5u429", "Z9Y8X7W6V5U429", "Z9.Y8X.7W6/V5U4-29"),
    ],
)
def test_cnpj_numeric_and_alphanumeric_are_accepted(raw: str, value: str, display: str) -> None:
    # Given a numeric or alphanumeric CNPJ, in any case, formatted or bare
    # When it is parsed
    cnpj = Cnpj.parse(raw)
    # Then the value is the 14 upper-case characters and the display form is formatted
    assert cnpj.value == value
    assert str(cnpj) == display


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("12.ABC.345/01DE-36", "CNPJ is not valid"),  # second check digit wrong
        ("12.ABC.345/01DE-45", "CNPJ is not valid"),  # first check digit wrong
        ("11.222.333/0001-82", "CNPJ is not valid"),
        ("00.000.000/0000-00", "CNPJ is not valid"),  # repeated characters pass mod 11
        ("11111111111111", "CNPJ is not valid"),
        ("12.ABC.345/01DE-3A", "CNPJ check digits must be numeric"),
        ("AAAAAAAAAAAAAA", "CNPJ check digits must be numeric"),
        ("11.222.333/0001", "CNPJ must have 14 characters"),
        ("112223330001811", "CNPJ must have 14 characters"),
        ("12.ABC.345_01DE-35", "CNPJ may contain only letters, digits, dots, a slash and a dash"),
        ("12.ÁBC.345/01DE-35", "CNPJ may contain only letters, digits, dots, a slash and a dash"),
        (
            "12.ABC.345/01DE-35".replace("C", "\u0441"),
            "CNPJ may contain only letters, digits, dots, a slash and a dash",
        ),
        (
            "12.ABC.345/01DE-35".replace("E", "\u0131"),
            "CNPJ may contain only letters, digits, dots, a slash and a dash",
        ),
    ],
)
def test_invalid_cnpj_is_refused_naming_the_field(raw: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Cnpj.parse(raw, field="dealership.cnpj")
    assert caught.value.field == "dealership.cnpj"
    assert caught.value.message == message


def test_cnpj_default_field_is_cnpj() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Cnpj.parse("")
    assert caught.value.field == "cnpj"


# --- CEP -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["22640-102", "22640102", " 22640-102 "])
def test_cep_is_normalized_to_eight_digits(raw: str) -> None:
    cep = Cep.parse(raw)
    assert cep.value == "22640102"
    assert str(cep) == "22640-102"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("00000-000", "CEP is not valid"),
        ("00000000", "CEP is not valid"),
        ("2264-0102", "CEP must have 8 digits, e.g. 22640-102"),
        ("2264010", "CEP must have 8 digits, e.g. 22640-102"),
        ("226401020", "CEP must have 8 digits, e.g. 22640-102"),
        ("22.640-102", "CEP must have 8 digits, e.g. 22640-102"),
        ("22640-10A", "CEP must have 8 digits, e.g. 22640-102"),
        ("", "CEP must have 8 digits, e.g. 22640-102"),
    ],
)
def test_invalid_cep_is_refused_naming_the_field(raw: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Cep.parse(raw)
    assert caught.value.field == "zipCode"
    assert caught.value.message == message


# --- Email -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("ana@example.com", "ana@example.com"),
        ("  Ana.Souza@Example.COM.br ", "ana.souza@example.com.br"),
        ("joao+carros@concessionaria-rio.com.br", "joao+carros@concessionaria-rio.com.br"),
        ("a@b.co", "a@b.co"),
        ("x" * 64 + "@example.com", "x" * 64 + "@example.com"),
    ],
)
def test_email_is_trimmed_and_lower_cased(raw: str, value: str) -> None:
    # Given an address typed with stray spaces or capitals
    # When it is parsed
    email = Email.parse(raw)
    # Then the stored form, on which uniqueness is checked, is trimmed and lower-case
    assert email.value == value
    assert str(email) == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "customer.email is required"),
        ("   ", "customer.email is required"),
        ("ana.example.com", "email must contain exactly one @"),
        ("ana@@example.com", "email must contain exactly one @"),
        ("ana@joao@example.com", "email must contain exactly one @"),
        ("@example.com", "email is missing the part before @"),
        ("x" * 65 + "@example.com", "email part before @ must be at most 64 characters"),
        ("a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63, "email must be at most 254 characters"),
        ("ana souza@example.com", "email is not a valid address"),
        (".ana@example.com", "email is not a valid address"),
        ("ana..souza@example.com", "email is not a valid address"),
        ("ana@localhost", "email domain is not valid"),
        ("ana@", "email domain is not valid"),
        ("ana@example..com", "email domain is not valid"),
        ("ana@-example.com", "email domain is not valid"),
        ("ana@example-.com", "email domain is not valid"),
        ("ana@exa mple.com", "email domain is not valid"),
        ("ana@exa_mple.com", "email domain is not valid"),
        ("ana@example.com.", "email domain is not valid"),
        ("\u212aarla@example.com", "email is not a valid address"),  # Kelvin sign, lower-cases to "k"
        ("joão@example.com", "email is not a valid address"),
        ("ana@exámple.com", "email is not a valid address"),
        ('"ana souza"@example.com', "email is not a valid address"),
    ],
)
def test_invalid_email_is_refused_naming_the_field(raw: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Email.parse(raw, field="customer.email")
    assert caught.value.field == "customer.email"
    assert caught.value.message == message


# --- Phone -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("+55 21 91234-5678", "+5521912345678"),
        ("(21) 91234-5678", "+5521912345678"),
        ("21912345678", "+5521912345678"),
        ("+5521912345678", "+5521912345678"),
        ("(11) 3456-7890", "+551134567890"),  # landline: 10 digits
        ("99 98765 4321", "+5599987654321"),
    ],
)
def test_brazilian_phone_is_normalized_to_e164(raw: str, value: str) -> None:
    phone = Phone.parse(raw)
    assert phone.value == value


def test_phone_display_form() -> None:
    assert str(Phone.parse("21912345678")) == "+55 (21) 91234-5678"
    assert str(Phone.parse("1134567890")) == "+55 (11) 3456-7890"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("21 81234-5678", "mobile numbers must start with 9 after the area code"),
        ("(01) 3456-7890", "phone area code is not valid"),
        ("(10) 3456-7890", "phone area code is not valid"),
        ("021 3456-7890", "phone area code is not valid"),  # trunk prefix 0 shifts the area code
        ("+1 212 555 0100", "phone must have area code and number, e.g. (21) 91234-5678"),
        ("3456-7890", "phone must have area code and number, e.g. (21) 91234-5678"),
        ("+55 21 912345-67890", "phone must have area code and number, e.g. (21) 91234-5678"),
        ("21.91234.5678", "phone must have area code and number, e.g. (21) 91234-5678"),
        ("55+21912345678", "phone must have area code and number, e.g. (21) 91234-5678"),
        ("", "phone must have area code and number, e.g. (21) 91234-5678"),
    ],
)
def test_invalid_phone_is_refused_naming_the_field(raw: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Phone.parse(raw, field="customer.phone")
    assert caught.value.field == "customer.phone"
    assert caught.value.message == message


_NOT_A_NUMBER = "price must be a number: digits with an optional point and at most two decimals, e.g. 189900.00"


# --- Money -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "amount"),
    [
        ("189900", Decimal("189900.00")),
        ("189900.5", Decimal("189900.50")),
        (Decimal("0.01"), Decimal("0.01")),
        (189900, Decimal("189900.00")),
        ("999999999.99", Decimal("999999999.99")),
    ],
)
def test_money_is_exact_with_two_decimal_places(raw: Decimal | int | str, amount: Decimal) -> None:
    money = Money.parse(raw)
    assert money.amount == amount
    assert money.amount.as_tuple().exponent == -2


def test_money_str_is_plain_two_decimal_amount() -> None:
    assert str(Money.parse("189900")) == "189900.00"
    assert str(Money.parse("1000")) == "1000.00"
    assert CURRENCY == "BRL"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("189900.001", "price has more than two decimal places"),
        (Decimal("0.001"), "price has more than two decimal places"),
        ("-1", "price must not be negative"),
        (Decimal("-0.01"), "price must not be negative"),
        ("0", "price must be greater than zero"),
        ("0.00", "price must be greater than zero"),
        (0, "price must be greater than zero"),
        ("1000000000", "price must be at most 999999999.99"),
        ("1000000000.00", "price must be at most 999999999.99"),
        ("NaN", "price must be a finite number"),
        (Decimal("Infinity"), "price must be a finite number"),
        ("-Infinity", "price must be a finite number"),
        ("abc", _NOT_A_NUMBER),
        ("", _NOT_A_NUMBER),
        ("189.900,00", _NOT_A_NUMBER),
        (True, "price must be a number"),
        (189900.0, "price must be exact: pass a string or Decimal, not a float"),
        (0.1, "price must be exact: pass a string or Decimal, not a float"),
    ],
)
def test_invalid_money_is_refused_naming_the_field(raw: Decimal | int | str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Money.parse(raw)
    assert caught.value.field == "price"
    assert caught.value.message == message


def test_money_error_uses_the_given_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Money.parse("-5", field="items.0.unitPrice")
    assert caught.value.field == "items.0.unitPrice"


@pytest.mark.parametrize("raw", ["0", "0.00", 0, "-0"])
def test_zero_money_is_accepted_when_allowed(raw: Decimal | int | str) -> None:
    money = Money.parse(raw, allow_zero=True)
    assert money == Money.zero()
    assert str(money) == "0.00"


def test_money_arithmetic_stays_exact() -> None:
    # Given amounts that floats cannot represent exactly
    a = Money.parse("0.10")
    b = Money.parse("0.20")
    # When they are added and multiplied by a quantity
    # Then the result is exact to the cent
    assert a + b == Money.parse("0.30")
    assert Money.parse("189900.99") * 3 == Money.parse("569702.97")
    assert 3 * Money.parse("0.10") == Money.parse("0.30")
    assert Money.parse("10") * 0 == Money.zero()
    assert Money.zero() + Money.parse("1.50") == Money.parse("1.50")


def test_money_totals_may_exceed_the_single_price_ceiling() -> None:
    total = Money.parse("999999999.99") * 10_000
    assert str(total) == "9999999999900.00"
    assert total.cents == 999999999990000


def test_money_cents() -> None:
    assert Money.parse("189900.5").cents == 18990050
    assert Money.zero().cents == 0


def test_money_multiplied_by_a_negative_quantity_is_refused() -> None:
    with pytest.raises(ValueError, match="zero or more"):
        Money.parse("10") * -1


@pytest.mark.parametrize("factor", [1.5, True, Decimal(2)])
def test_money_multiplied_by_a_non_integer_is_a_type_error(factor: object) -> None:
    with pytest.raises(TypeError):
        Money.parse("10") * factor  # type: ignore[operator]


def test_money_ordering() -> None:
    cheap, dear = Money.parse("50000"), Money.parse("189900")
    assert cheap < dear
    assert cheap <= dear
    assert dear > cheap
    assert dear >= cheap
    assert cheap <= Money.parse("50000.00")
    assert max(dear, cheap) == dear
    assert sorted([dear, cheap, Money.zero()]) == [Money.zero(), cheap, dear]


def test_money_equal_amounts_are_equal_and_hash_alike() -> None:
    assert Money.parse("10.5") == Money.parse("10.50")
    assert hash(Money.parse("10.5")) == hash(Money.parse(Decimal("10.5")))


# --- ModelYear -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [1886, 2000, 2025, 2026])
def test_model_year_up_to_next_year_is_accepted(raw: int) -> None:
    # Given the current year is 2025, so the 2026 model is already on sale
    # When a year in range is parsed
    # Then it is kept as is
    assert ModelYear.parse(raw, current_year=2025).value == raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (1700, "vehicle.year must be between 1886 and 2026"),
        (1885, "vehicle.year must be between 1886 and 2026"),
        (2027, "vehicle.year must be between 1886 and 2026"),  # two years ahead
        (-2025, "vehicle.year must be between 1886 and 2026"),
        (True, "vehicle.year must be a whole number"),
        ("2025", "vehicle.year must be a whole number"),
        (2025.0, "vehicle.year must be a whole number"),
    ],
)
def test_invalid_model_year_is_refused_naming_the_field(raw: int, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        ModelYear.parse(raw, field="vehicle.year", current_year=2025)
    assert caught.value.field == "vehicle.year"
    assert caught.value.message == message


def test_model_year_defaults_to_the_current_year() -> None:
    next_year = datetime.now(UTC).year + 1
    assert ModelYear.parse(next_year).value == next_year
    with pytest.raises(ValidationFailed) as caught:
        ModelYear.parse(next_year + 1)
    assert caught.value.field == "year"


# --- Quantity --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [1, 2, 10_000])
def test_positive_quantity_is_accepted(raw: int) -> None:
    assert Quantity.parse(raw).value == raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (0, "quantity must be at least 1"),
        (-1, "quantity must be at least 1"),
        (10_001, "quantity must be at most 10000"),
        (True, "quantity must be a whole number"),
        (1.0, "quantity must be a whole number"),
        ("1", "quantity must be a whole number"),
    ],
)
def test_invalid_quantity_is_refused_naming_the_field(raw: int, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Quantity.parse(raw)
    assert caught.value.field == "quantity"
    assert caught.value.message == message


# --- required_text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text"),
    [("Ana", "Ana"), ("  São Paulo  ", "São Paulo"), ("x" * 200, "x" * 200), ("Açaí 🚗", "Açaí 🚗")],
)
def test_required_text_is_stripped(raw: str, text: str) -> None:
    assert required_text(raw, field="name") == text


@pytest.mark.parametrize(
    ("raw", "max_length", "message"),
    [
        (None, 200, "name is required"),
        ("", 200, "name is required"),
        ("  \t\n ", 200, "name is required"),
        ("x" * 201, 200, "name must be at most 200 characters"),
        ("abcd", 3, "name must be at most 3 characters"),
        ("Ana\nSouza", 200, "name contains control characters"),
        ("Ana\x00", 200, "name contains control characters"),
        ("Ana\x1b[31m", 200, "name contains control characters"),
        ("Ana\ud800", 200, "name contains control characters"),
    ],
)
def test_invalid_required_text_is_refused_naming_the_field(raw: str | None, max_length: int, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        required_text(raw, field="name", max_length=max_length)
    assert caught.value.field == "name"
    assert caught.value.message == message


# --- Address ---------------------------------------------------------------------------------------------

_ADDRESS = {
    "street": "Avenida das Américas",
    "number": "4666",
    "complement": "Loja 101",
    "neighborhood": "Barra da Tijuca",
    "city": "Rio de Janeiro",
    "state": "RJ",
    "zip_code": "22640-102",
}


def _address(**changes: str | None) -> Address:
    parts = {**_ADDRESS, **changes}
    return Address.parse(
        parts["street"] or "",
        parts["number"] or "",
        parts["complement"],
        parts["neighborhood"] or "",
        parts["city"] or "",
        parts["state"] or "",
        parts["zip_code"] or "",
    )


def test_brazilian_states_are_the_27_federative_units() -> None:
    assert len(BRAZILIAN_STATES) == 27
    assert {"SP", "RJ", "DF", "TO"} <= BRAZILIAN_STATES


def test_address_is_parsed_and_normalized() -> None:
    # Given an address typed with stray spaces and a lower-case state
    # When it is parsed
    address = _address(street=" Avenida das Américas ", state="rj", zip_code="22640102")
    # Then every part is normalized
    assert address == Address(
        street="Avenida das Américas",
        number="4666",
        complement="Loja 101",
        neighborhood="Barra da Tijuca",
        city="Rio de Janeiro",
        state="RJ",
        zip_code=Cep("22640102"),
    )
    assert str(address) == "Avenida das Américas, 4666, Loja 101 - Barra da Tijuca, Rio de Janeiro - RJ, 22640-102"


@pytest.mark.parametrize("complement", [None, "", "   "])
def test_address_complement_is_optional(complement: str | None) -> None:
    address = _address(complement=complement)
    assert address.complement is None
    assert str(address) == "Avenida das Américas, 4666 - Barra da Tijuca, Rio de Janeiro - RJ, 22640-102"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"street": ""}, "address.street"),
        ({"street": "x" * 201}, "address.street"),
        ({"number": "  "}, "address.number"),
        ({"number": "1" * 21}, "address.number"),
        ({"complement": "Sala\n1"}, "address.complement"),
        ({"complement": "x" * 101}, "address.complement"),
        ({"neighborhood": ""}, "address.neighborhood"),
        ({"city": ""}, "address.city"),
        ({"state": ""}, "address.state"),
        ({"state": "XX"}, "address.state"),
        ({"state": "Rio de Janeiro"}, "address.state"),
        ({"zip_code": "2264-0102"}, "address.zipCode"),
        ({"zip_code": "00000-000"}, "address.zipCode"),
    ],
)
def test_invalid_address_part_is_refused_naming_the_nested_field(changes: dict[str, str | None], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _address(**changes)
    assert caught.value.field == field


def test_address_field_prefix_can_be_changed() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Address.parse("Rua A", "1", None, "Centro", "Niterói", "RJ", "123", field="billingAddress")
    assert caught.value.field == "billingAddress.zipCode"


def test_address_reports_the_first_bad_part_in_form_order() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Address.parse("", "", None, "", "", "XX", "0")
    assert caught.value.field == "address.street"


def test_address_state_message() -> None:
    with pytest.raises(ValidationFailed) as caught:
        _address(state="XX")
    assert caught.value.message == "state must be a Brazilian state code, e.g. SP"


# --- Immutability ----------------------------------------------------------------------------------------


def test_value_objects_are_frozen() -> None:
    cpf = Cpf.parse("123.456.789-09")
    with pytest.raises(AttributeError):
        cpf.value = "00000000000"  # type: ignore[misc]


def test_an_address_s_fields_read_back_into_the_same_address() -> None:
    address = Address.parse("Rua A", "10", None, "Centro", "Rio de Janeiro", "rj", "22640102")
    fields = AddressFields.of(address)
    assert fields.parse() == address
    assert fields.as_dict() == {
        "street": "Rua A",
        "number": "10",
        "complement": None,
        "neighborhood": "Centro",
        "city": "Rio de Janeiro",
        "state": "RJ",
        "zip_code": "22640-102",
    }


def test_address_fields_are_checked_when_parsed_under_the_field_given() -> None:
    fields = AddressFields("Rua A", "10", "Centro", "Rio de Janeiro", "XX", "22640102")
    with pytest.raises(ValidationFailed) as caught:
        fields.parse(field="shipping")
    assert caught.value.field == "shipping.state"
