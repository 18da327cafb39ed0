"""``/dev/requests``: clients with counts, a client's entries with its failed checks; 404
outside development mode."""

from __future__ import annotations

import re

from tests.helpers import Browser, token_call


def test_the_list_shows_each_client_with_its_count(journal_app, own_client):
    for _ in range(2):
        token_call(journal_app, own_client, grant_type="client_credentials")
    page = journal_app.test_client().get("/dev/requests")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="fr">' in html and "<caption>" in html and 'scope="col"' in html
    row = re.search(rf"{own_client.client_id}</a></th>\s*<td>[^<]*</td>\s*<td>(\d+)</td>", html)
    assert row is not None and row.group(1) == "2"


def test_a_client_s_page_shows_what_was_sent_got_and_failed(journal_app, own_client):
    token_call(journal_app, own_client, grant_type="client_credentials")
    Browser(journal_app).authorize(
        own_client.client_id, nonce=None, redirect_uri="https://x.example/"
    )
    page = journal_app.test_client().get(f"/dev/requests/{own_client.client_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index(">authorize<") < html.index(">token<")  # newest first
    assert 'class="check check--refusal"' in html and "redirect_uri non enregistrée" in html
    assert 'class="check check--warning"' in html and "nonce absent" in html
    assert "<details>" in html and "Envoyé par le service" in html and "Reçu par le service" in html
    assert "https://x.example/" in html
    assert own_client.secret not in html
    assert page.headers["Content-Security-Policy"]


def test_an_unknown_client_is_a_french_404(journal_app):
    page = journal_app.test_client().get("/dev/requests/personne")
    assert page.status_code == 404
    assert '<html lang="fr">' in page.get_data(as_text=True)


def test_not_outside_development_mode(make_app):
    production = make_app(dev_mode=False, request_journal=True)
    http = production.test_client()
    assert http.get("/dev/requests").status_code == 404
    assert http.get("/dev/requests/demo-web").status_code == 404


def test_the_landing_page_links_to_the_journal(journal_app):
    html = journal_app.test_client().get("/").get_data(as_text=True)
    assert 'href="/dev/requests"' in html
