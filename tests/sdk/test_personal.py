"""Personal data under the ``redacted`` policy: each kind found where it checks out, look-alikes left alone."""

from __future__ import annotations

import pytest

from aitrail.sdk.redact import redact


@pytest.mark.parametrize(("text", "kind"), [
    ("call me on +1 415-555-0132 tomorrow", "phone_number"),
    ("the office: (415) 555-0199", "phone_number"),
    ("London desk +44 20 7946 0958", "phone_number"),
    ("pay with 4111 1111 1111 1111 please", "payment_card"),
    ("card 5500-0000-0000-0004", "payment_card"),
    ("wire to DE89 3704 0044 0532 0130 00 today", "iban"),
    ("account GB82WEST12345698765432", "iban"),
    ("SSN 123-45-6789 on file", "us_ssn"),
    ("server at 2606:4700:4700::1111 is down", "ip_address"),
])
def test_each_kind_is_removed(text, kind):
    cleaned = redact(text, personal=True)
    assert f"[REDACTED:{kind}]" in cleaned.text and cleaned.kinds == {kind: 1}
    assert redact(text, personal=False).text == text  # the full policy keeps personal data


@pytest.mark.parametrize("text", [
    "order 1234567890123 shipped",                   # digits failing the Luhn check
    "card 4111-1111-1111-1112",                      # one digit off
    "SSNs never start with 000: 000-12-3456, nor 666-12-3456, nor 900-12-3456",
    "link-local fe80::1, loopback ::1, documentation 2001:db8::1",
    "at 12:30:45 the MAC aa:bb:cc:dd:ee:ff answered",
    "version 1.2.3, build 20240102, count 1234567",
])
def test_look_alikes_stay(text):
    assert redact(text, personal=True).text == text
