"""The WordPress plugin (integrations/wordpress) on a real WordPress: Debian's package on an
Apache and a MariaDB database of the test's own (tests/wordpress.py), the plugin installed
from the zip the release builds. Posts are written by the roles that would write them, so an
Author's and a Contributor's pass through kses, which strips the service's own snippet."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    NetworkLog,
    Service,
    Signer,
    fill_and_submit,
    running_service,
    save_screenshot,
    unavailable,
)
from tests.servers import free_port
from tests.wordpress import WordPress, missing, running_wordpress
from widget import counter


@pytest.fixture(scope="module")
def wordpress_port() -> int:
    reason = missing()
    if reason:
        unavailable(reason)
    return free_port()


@pytest.fixture(scope="module")
def wp_service(tmp_path_factory: pytest.TempPathFactory, wordpress_port: int) -> Iterator[Service]:
    """The service, trusting the WordPress site's origin (a registered partner's)."""
    folder = tmp_path_factory.mktemp("wordpress-service")
    with running_service(folder, f"http://localhost:{wordpress_port}") as service:
        yield service


@pytest.fixture(scope="module")
def wordpress(wp_service: Service, wordpress_port: int) -> Iterator[WordPress]:
    with running_wordpress(wp_service.url, wordpress_port) as site:
        yield site


def loaders(page_html: str) -> list[str]:
    return re.findall(r"<script[^>]*\bsrc=['\"]([^'\"]*embed\.js[^'\"]*)", page_html)


def petition_links(page_html: str) -> list[str]:
    return [
        html.unescape(href)
        for href in re.findall(
            r"<a [^>]*href=\"([^\"]*)\"[^>]*data-campaign=\"belarus\"", page_html
        )
    ]


@pytest.mark.parametrize(
    ("post", "hosted"),
    [
        ("author-shortcode", "/c/belarus?partner=demo&lang=en"),
        ("contributor-shortcode", "/c/belarus?lang=fr"),
        ("author-block", "/c/belarus?partner=demo&lang=en"),
        ("author-url", "/c/belarus?partner=demo&lang=en"),
        ("author-embed-block", "/c/belarus?lang=en"),
        ("administrator-shortcode", "/c/belarus?lang=en"),
    ],
)
def test_every_role_and_way_of_pasting_gets_the_petition(
    post: str, hosted: str, wordpress: WordPress, wp_service: Service, page: Page,
    network: NetworkLog,
) -> None:  # fmt: skip
    """The shortcode (Author, Contributor), the block and a bare URL become the link the
    loader replaces; the loader comes from the WordPress site, never from the service."""
    page_html = httpx.get(wordpress.posts[post]).text
    assert petition_links(page_html) == [wp_service.url + hosted]
    assert loaders(page_html) == [
        f"{wordpress.url}/wp-content/plugins/petition-widget/assets/embed.js?ver=0.1.0"
    ]
    page.goto(wordpress.posts[post])
    frame = page.locator(".petition-widget > iframe")
    expect(frame).to_have_attribute("src", wp_service.url + hosted.replace("?", "/embed?"))
    content = frame.element_handle().content_frame()
    assert content is not None
    expect(content.locator("form[data-pw-form] button[type=submit]")).to_be_visible()
    expect(page.locator("a[data-campaign]")).to_be_hidden()  # the iframe reported its height
    assert f"{wp_service.url}/embed.js" not in [request.url for request in network.requests]


def test_under_disallow_unfiltered_html_an_administrators_snippet_loses_its_script_too(
    wordpress: WordPress, wp_service: Service
) -> None:
    page_html = httpx.get(wordpress.posts["administrator-snippet"]).text
    assert loaders(page_html) == []
    assert petition_links(page_html) == [wp_service.url + "/c/belarus?lang=en"]


def test_the_services_own_snippet_pasted_by_an_author_leaves_a_working_link(
    wordpress: WordPress, wp_service: Service, page: Page
) -> None:
    """WordPress strips the script for an Author; the link part of the snippet stays."""
    page_html = httpx.get(wordpress.posts["author-snippet"]).text
    assert loaders(page_html) == []  # stripped, as the issue found it
    assert petition_links(page_html) == [wp_service.url + "/c/belarus?partner=demo&lang=en"]
    page.goto(wordpress.posts["author-snippet"])
    page.locator("a[data-campaign]").click()
    page.wait_for_url(wp_service.url + "/c/belarus?partner=demo&lang=en")
    expect(page.locator("h1")).to_have_text("Protect peaceful protesters in Belarus")


def test_click_to_load_asks_nothing_of_the_service_until_the_click(
    wordpress: WordPress, wp_service: Service, page: Page, network: NetworkLog
) -> None:
    page.goto(wordpress.posts["author-click"])
    page.wait_for_load_state("networkidle")
    assert wp_service.url not in network.origins(), network.origins()
    card = page.locator(".petition-widget-card")
    expect(card.locator(".petition-widget-card-title")).to_have_text(
        "Protect peaceful protesters in Belarus"
    )
    # The count WordPress fetched (and cached) on the server, as the service says it.
    expect(card.locator(".petition-widget-card-count")).to_have_text(counter.sentence(785, "en"))
    save_screenshot(page, "wordpress-click-to-load")
    card.get_by_role("link", name="Sign the petition").click()
    frame = card.locator("iframe")
    expect(frame).to_have_attribute("src", wp_service.url + "/c/belarus/embed?lang=en")
    expect(card.locator(".petition-widget-card-count")).to_be_hidden()  # the petition has its own
    # The petition loaded, so its request has been seen (asserting at once raced the request).
    petition = card.frame_locator("iframe").locator("h1")
    expect(petition).to_have_text("Protect peaceful protesters in Belarus")
    assert page.url == wordpress.posts["author-click"]
    assert wp_service.url in network.origins()


def test_a_server_side_counter_needs_no_request_from_the_reader(
    wordpress: WordPress, wp_service: Service, page: Page, network: NetworkLog
) -> None:
    page.goto(wordpress.posts["author-counter-click"])
    page.wait_for_load_state("networkidle")
    count = page.locator(".petition-widget-count")
    expect(count).to_contain_text(counter.sentence(785, "ru"))
    expect(count.get_by_role("link", name="Подпишите петицию")).to_have_attribute(
        "href", wp_service.url + "/c/belarus?lang=ru"
    )
    assert wp_service.url not in network.origins(), network.origins()


def test_without_the_plugin_a_bare_url_becomes_the_services_card(
    wordpress: WordPress, wp_service: Service, page: Page
) -> None:
    """WordPress alone discovers the hosted page's oEmbed and shows its card in a sandbox
    (scripts only); the card's button opens the hosted petition in the top window."""
    plugin = "'petition-widget/petition-widget.php'"
    include = "require_once ABSPATH . 'wp-admin/includes/plugin.php';"
    wordpress.php(f"{include} deactivate_plugins({plugin});")
    try:
        page.goto(wordpress.posts["author-url"])
        card = page.locator("iframe.wp-embedded-content")
        expect(card).to_have_attribute("sandbox", "allow-scripts")
        assert (card.get_attribute("src") or "").startswith(f"{wp_service.url}/c/belarus/card?")
        frame = page.frame_locator("iframe.wp-embedded-content")
        expect(frame.locator("[data-pw-count-text]")).to_contain_text("people have taken action")
        save_screenshot(page, "wordpress-oembed-card")
        frame.locator("a.pw-button").click()
        page.wait_for_url(re.compile(re.escape(f"{wp_service.url}/c/belarus?")))
        expect(page.locator("h1")).to_have_text("Protect peaceful protesters in Belarus")
    finally:
        wordpress.php(f"{include} activate_plugin({plugin});")


def test_the_plugins_counts_read_as_the_services(wordpress: WordPress) -> None:
    """Plural forms and digit grouping, for every language (the texts come from the
    service's translations; the plural rules are written in PHP)."""
    numbers = [0, 1, 2, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111, 785, 1000, 1021, 1000000, 2000000]
    listed = json.dumps(numbers).replace(" ", "")
    printed = wordpress.php(
        f"foreach (array('en','fr','be','ru') as $l) {{ foreach (json_decode('{listed}') as $n) {{"
        " echo wp_strip_all_tags(petition_widget_count_html($n, $l, petition_widget_texts($l)))"
        ', "\\n"; } }'
    ).splitlines()
    expected = [counter.sentence(n, lang) for lang in ("en", "fr", "be", "ru") for n in numbers]
    assert printed == expected


def test_the_count_outlives_an_outage_without_asking_on_every_view(
    wordpress: WordPress, wp_service: Service
) -> None:
    """With the service unreachable, the card shows the last count WordPress had, and asks
    again only after a pause; a campaign it never reached shows no count at all."""
    printed = wordpress.php(
        "$asked = 0; add_filter('pre_http_request', function ($r) use (&$asked) {"
        " $asked++; return $r; });"
        " $service = get_option('petition_widget_service');"
        " $before = petition_widget_campaign('belarus');"  # fetched, or fresh in the cache
        " update_option('petition_widget_service', 'http://127.0.0.1:9');"  # nothing listens
        " $key = 'petition_widget_' . md5('http://127.0.0.1:9|belarus');"
        " set_transient($key . '_last', $before, 60);"  # as if fetched before the outage
        " $asked = 0; $during = petition_widget_campaign('belarus'); $first = $asked;"
        " petition_widget_campaign('belarus'); $again = $asked - $first;"
        " $never = petition_widget_campaign('never-reached');"
        " update_option('petition_widget_service', $service);"
        " echo json_encode(array($before, $during, $never, $first, $again));"
    )
    before, during, never, first, again = json.loads(printed)
    assert before["count"] >= 785 and before["title"] == "Protect peaceful protesters in Belarus"
    assert during == before
    assert never is None
    assert (first, again) == (1, 0)  # one try, then the pause


def test_a_mistake_is_explained_to_editors_and_hidden_from_readers(wordpress: WordPress) -> None:
    page_html = httpx.get(wordpress.posts["author-mistake"]).text
    assert "The text goes on." in page_html
    assert "Petition not shown" not in page_html and "Not a slug" not in page_html
    shown = {
        attributes: html.unescape(
            wordpress.php(f"echo do_shortcode('[petition {attributes}]');", user="author")
        )
        for attributes in ('campaign="Not a slug!"', "", 'campaign="belarus" lang="de"',
                           'campaign="belarus" mode="popup"', 'campaign="belarus" partner="a b"',
                           'campaign="belarus" load="later"')
    }  # fmt: skip
    assert "“not a slug!” is not a campaign" in shown['campaign="Not a slug!"']
    assert "Say which campaign to show" in shown[""]
    assert "lang must be one of en, fr, be, ru" in shown['campaign="belarus" lang="de"']
    assert 'mode must be "form"' in shown['campaign="belarus" mode="popup"']
    assert "is not a partner code" in shown['campaign="belarus" partner="a b"']
    assert 'load must be "page"' in shown['campaign="belarus" load="later"']
    assert all("Petition not shown:" in text for text in shown.values())


@pytest.mark.parametrize(
    "address",
    ["javascript:alert(1)", "petitions.example.org", "https://petitions.example.org/c/belarus",
     "https://user@petitions.example.org", "ftp://petitions.example.org",
     "https://petitions.example.org?x=1", "https://bad host.example"],
)  # fmt: skip
def test_the_settings_refuse_an_address_that_is_not_a_site(
    address: str, wordpress: WordPress, wp_service: Service
) -> None:
    printed = wordpress.php(
        "require_once ABSPATH . 'wp-admin/includes/template.php';"  # as in the admin
        f" update_option('petition_widget_service', {address!r});"
        " echo get_option('petition_widget_service'), \"\\n\";"
        " foreach (get_settings_errors('petition_widget_service') as $e) echo $e['message'];"
    )
    kept, message = printed.split("\n", 1)
    assert kept == wp_service.url  # nothing stored is lost or changed
    assert message.startswith("The petition service address")


def test_the_settings_page_says_whether_the_service_answers(
    wordpress: WordPress, page: Page
) -> None:
    page.goto(wordpress.url + "/wp-login.php")
    page.locator("#user_login").fill("admin")
    page.locator("#user_pass").fill(wordpress.password)
    page.locator("#wp-submit").click()
    page.wait_for_url(re.compile(r"/wp-admin/"))
    page.goto(wordpress.url + "/wp-admin/options-general.php?page=petition-widget")
    expect(page.get_by_text("This site reaches the service.")).to_be_visible()
    save_screenshot(page, "wordpress-settings")
    field = page.get_by_label("Petition service address")
    address = field.input_value()
    field.fill("https://petitions.example.org/c/belarus")
    page.get_by_role("button", name="Save Changes").click()
    expect(page.locator(".notice-error, .error")).to_contain_text("without a path")
    expect(page.get_by_label("Petition service address")).to_have_value(address)


# In the block editor: the block, inserted with the campaign typed, then the post published.
PUBLISH_WITH_THE_BLOCK = """async () => {
  const { blocks, data } = window.wp;
  const block = blocks.createBlock("petition-widget/petition", { campaign: "belarus", lang: "fr" });
  data.dispatch("core/block-editor").insertBlocks(block);
  data.dispatch("core/editor").editPost({ title: "Written in the editor", status: "publish" });
  await data.dispatch("core/editor").savePost();
  return data.select("core/editor").getPermalink();
}"""


def test_an_author_adds_the_block_in_the_editor_and_publishes(
    wordpress: WordPress, wp_service: Service, page: Page
) -> None:
    page.goto(wordpress.url + "/wp-login.php")
    page.locator("#user_login").fill("author")
    page.locator("#user_pass").fill(wordpress.password)
    page.locator("#wp-submit").click()
    page.wait_for_url(re.compile(r"/wp-admin/"))
    page.goto(wordpress.url + "/wp-admin/post-new.php")
    page.wait_for_function(
        "() => window.wp && wp.blocks && !!wp.blocks.getBlockType('petition-widget/petition')"
        " && wp.data.select('core/editor').getCurrentPostId()"
    )
    permalink = page.evaluate(PUBLISH_WITH_THE_BLOCK)
    page.goto(permalink)
    frame = page.locator(".wp-block-petition-widget-petition .petition-widget > iframe")
    expect(frame).to_have_attribute("src", wp_service.url + "/c/belarus/embed?lang=fr")


def test_a_reader_signs_in_an_authors_post_and_the_count_goes_up(
    wordpress: WordPress, wp_service: Service, page: Page, network: NetworkLog, tmp_path: Path
) -> None:
    before = httpx.get(wp_service.url + "/api/campaigns/belarus").json()["count"]
    page.goto(wordpress.posts["author-shortcode"])
    frame_element = page.locator(".petition-widget > iframe")
    expect(page.locator("a[data-campaign]")).to_be_hidden()
    frame = frame_element.element_handle().content_frame()
    assert frame is not None
    save_screenshot(page, "wordpress-author-post")
    fill_and_submit(frame, Signer(email="reader@example.org"))
    expect(frame.locator("[data-pw-count-text]")).to_have_text(counter.sentence(before + 1, "en"))
    assert httpx.get(wp_service.url + "/api/campaigns/belarus").json()["count"] == before + 1
    assert wp_service.partners()[-1] == "demo"
    save_screenshot(page, "wordpress-author-post-signed")


def test_the_plugin_raised_no_php_notice(wordpress: WordPress) -> None:
    """Runs last: whatever the other tests made WordPress do, the plugin warned of nothing."""
    assert [line for line in wordpress.log().splitlines() if "petition-widget" in line] == []
