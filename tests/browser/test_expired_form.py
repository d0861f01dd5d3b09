"""A reader who left the iframe open past the token's lifetime signs on the first click: the
expired form is refreshed and sent again by frame.js, without an error in between."""

from __future__ import annotations

import time
from unittest import mock

from itsdangerous import TimestampSigner
from playwright.sync_api import expect

from widget import signing


def expired_token(service) -> str:
    secret = (service.database.parent / "widget.keys" / "secret-key").read_text().strip()
    tokens = signing.Tokens(secret, 6 * 3600, 2.0)
    old = int(time.time()) - 7 * 3600
    with mock.patch.object(TimestampSigner, "get_timestamp", lambda self: old):
        return tokens.issue("belarus", old)


def test_an_expired_form_signs_on_the_first_click(widgets, service, signer, sign):
    page = widgets.open("one").page
    frame = widgets.ready()
    frame.locator("[data-pw-token]").evaluate(
        "(input, t) => { input.value = t; }", expired_token(service)
    )
    answers = []
    page.on("response", lambda r: answers.append(r.status) if r.url.endswith("/sign") else None)
    sign(frame, signer)
    expect(frame.locator("[data-pw-thanks]")).to_be_visible()
    expect(widgets.count_text()).to_have_text("786 people have taken action")
    assert answers == [422, 200]  # refused as expired, then sent again at once
    expect(frame.locator("[data-pw-summary]")).to_be_hidden()
