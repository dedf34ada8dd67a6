"""Personal data in prompts (the ``redacted`` policy), beyond e-mail and IPv4 addresses.

Each kind is found where it can be checked, so an order number or a hash is not taken for one:

``phone_number``
    Google's libphonenumber (the ``phonenumbers`` package), valid numbers only: any country in
    international form (``+44 20 7946 0958``), and North American numbers in national form
    (``(415) 555-0132``) — other countries' national forms are not recognised.
``ip_address``
    Public IPv6 addresses (IPv4 is :mod:`aitrail.sdk.redact`'s); private, loopback and documentation
    ranges stay, as for IPv4.
``payment_card``
    13 to 19 digits, in groups separated by single spaces or dashes, that pass the Luhn check.
``iban``
    International bank account numbers (with or without the groups of four) whose check digits are right
    (ISO 13616, mod 97).
``us_ssn``
    US social security numbers written ``AAA-GG-SSSS`` with an area, group and serial the SSA issues
    (not 000, 666 or 9xx; not 00; not 0000).

Not covered: names, postal addresses, dates of birth, other national identifiers.
"""

from __future__ import annotations

import ipaddress
import re

PHONE_REGION = "US"
"""The country whose national number forms are recognised (international forms are, for every country)."""
KINDS = frozenset({"phone_number", "ip_address", "payment_card", "iban", "us_ssn"})

_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
_DIGITS = re.compile(r"\d")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _iban_ok(text: str) -> bool:
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _public_ipv6(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return address.version == 6 and address.is_global


def _phones(text: str) -> list[tuple[int, int, str]]:
    import phonenumbers

    return [(m.start, m.end, "phone_number")
            for m in phonenumbers.PhoneNumberMatcher(text, PHONE_REGION, leniency=phonenumbers.Leniency.VALID)]


def find(text: str) -> list[tuple[int, int, str]]:
    """Every piece of personal data of the kinds above in ``text``, as (start, end, kind), unmerged."""
    found: list[tuple[int, int, str]] = []
    if ":" in text:
        found += [(m.start(), m.end(), "ip_address") for m in _IPV6.finditer(text) if _public_ipv6(m.group())]
    if len(_DIGITS.findall(text)) < 7:
        return found  # no number long enough for a phone, a card, an IBAN or an SSN
    found += [(m.start(), m.end(), "payment_card") for m in _CARD.finditer(text)
              if _luhn(re.sub(r"[ -]", "", m.group())) and len(set(re.sub(r"[ -]", "", m.group()))) > 1]
    found += [(m.start(), m.end(), "iban") for m in _IBAN.finditer(text) if _iban_ok(m.group())]
    found += [(m.start(), m.end(), "us_ssn") for m in _SSN.finditer(text)]
    taken = [(s, e) for s, e, _ in found]
    found += [(s, e, k) for s, e, k in _phones(text) if not any(s < te and ts < e for ts, te in taken)]
    return found
