"""Money as the API sends it: a decimal rounded to the currency's minor unit.

Money never travels as a binary float (`283.39999999999964`): amounts are `Decimal`,
rounded half-to-even to the currency's minor unit (2 digits for EUR, 0 for JPY, 3 for
KWD) and sent in JSON as decimal strings (`"283.40"`), which every client can parse
without losing a cent.

Example:
    >>> money(283.39999999999964, "EUR")
    Decimal('283.40')
    >>> money("1234.5", "JPY")
    Decimal('1234')
    >>> minor_digits("KWD")
    3
"""

from decimal import ROUND_HALF_EVEN, Decimal

# ISO 4217 currencies whose minor unit is not 2 digits.
_MINOR_DIGITS = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


def minor_digits(currency: str) -> int:
    """Digits after the decimal point of a currency's minor unit (ISO 4217; 2 when not listed)."""
    return _MINOR_DIGITS.get(currency.strip().upper(), 2)


def money(value: Decimal | float | int | str, currency: str) -> Decimal:
    """An amount rounded half-to-even to the currency's minor unit.

    Floats are read through their shortest repr, so float noise (`0.30000000000000004`)
    rounds away.
    """
    d = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    return d.quantize(Decimal(1).scaleb(-minor_digits(currency)), rounding=ROUND_HALF_EVEN)


def optional_money(value: Decimal | float | int | str | None, currency: str) -> Decimal | None:
    """`money`, with None kept as None."""
    return None if value is None else money(value, currency)
