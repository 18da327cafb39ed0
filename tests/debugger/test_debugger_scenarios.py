"""The debugger and the other development tools: the run page lists the client's error
scenarios, names the one that changed an exchange (with its description), and links the
client's request journal when the journal is on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import live_deployment
from tests.debugger.browsing import DOCTOR, DebuggerBrowser, text_of
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e
CLIENT = "demo-debugger"


@pytest.fixture(scope="module")
def live_server(database_url: str) -> Iterator[LiveServer]:
    env = {"PSC_REQUEST_JOURNAL": "1"}
    if database_url.startswith("postgresql"):
        env["PSC_DATABASE_URL"] = database_url
    with live_deployment(env) as server:
        yield server


def psc_idp(server, *args: str) -> str:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("psc-idp")), *args],
        env=server.environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def add_scenario(server, *args: str) -> str:
    out = psc_idp(server, "scenarios", "add", "--client", CLIENT, *args, "--json")
    return json.loads(out)["id"]


@pytest.fixture
def browser(live_server) -> Iterator[DebuggerBrowser]:
    yield DebuggerBrowser(live_server)
    psc_idp(live_server, "scenarios", "remove", "--client", CLIENT)


def test_a_token_error_scenario_is_shown_and_named_on_its_exchange(browser, live_server):
    scenario = add_scenario(live_server, "--endpoint", "token", "--error", "invalid_grant")
    run = browser.code_flow()
    text = text_of(run)
    described = "token : répond l'erreur invalid_grant (tous les professionnels)"
    # The client's scenarios, listed on the run page.
    assert "Scénarios d'erreur du client" in text
    assert f"{scenario} — point d'accès token, effet error = invalid_grant" in _visible(text)
    # The code exchange got the scenario's error, and the page says which scenario it was.
    assert f"POST {live_server.issuer}/protocol/openid-connect/token" in text
    assert "400 BAD REQUEST" in text.upper()
    assert '"error": "invalid_grant"' in text
    # The header, as received (granian sends its names in lower case).
    assert re.search(rf"<dt>x-psc-scenario</dt><dd><code[^>]*>{scenario}</code>", text, re.I)
    notes = _visible(text).split("Réponse modifiée par le scénario ")[1:]
    assert [note.split(".")[0] for note in notes] == [f"{scenario} : {described}"]
    assert "Signature valide" not in text  # no token came


def test_an_authorization_error_is_named_from_its_description(browser, live_server):
    scenario = add_scenario(live_server, "--endpoint", "authorize", "--error", "access_denied")
    run = browser.start("code", login_hint=DOCTOR)  # answered at once: no login
    assert "/dev/debugger/runs/" in run.url
    text = _visible(text_of(run))
    assert "erroraccess_denied" in text  # the callback's query: <dt>error</dt><dd>…
    assert f"error_descriptionpsc-idp scenario {scenario}" in text
    assert (
        f"Réponse modifiée par le scénario {scenario} : authorize : répond l'erreur "
        "access_denied (tous les professionnels)"
    ) in text
    # Removed since: the run still names it, and says it is gone.
    psc_idp(live_server, "scenarios", "remove", "--client", CLIENT, "--id", scenario)
    again = _visible(text_of(browser.http.get(run.url, timeout=20)))
    assert f"Réponse modifiée par le scénario {scenario} (retiré depuis)." in again
    assert "Scénarios d'erreur du client" not in again


def test_the_run_links_the_clients_journal_which_holds_the_exchange(browser, live_server):
    add_scenario(live_server, "--endpoint", "token", "--error", "invalid_grant")
    run = browser.code_flow()
    assert 'href="/dev/requests/demo-debugger"' in run.text
    journal = browser.http.get(live_server.url("/dev/requests/demo-debugger"), timeout=20)
    assert journal.status_code == 200
    assert "invalid_grant" in journal.text


def _visible(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))


@pytest.mark.parametrize(
    ("option", "seen"),
    [
        (("--drop-claim", "SubjectNameID"), "retire le claim SubjectNameID"),
        (("--wrong-signature",), "signe les jetons d'une clé hors JWKS"),
    ],
)
def test_a_scenario_changing_the_tokens_is_named_with_its_effect(
    browser, live_server, option, seen
):
    scenario = add_scenario(live_server, "--endpoint", "token", *option)
    text = _visible(text_of(browser.code_flow()))
    assert f"Réponse modifiée par le scénario {scenario} : token : {seen}" in text
    if option[0] == "--drop-claim":
        assert "Signature valide (RS256" in text and '"SubjectNameID"' not in text
    else:  # the ID token and the access token, both signed outside the JWKS
        assert text.count("Signature invalide") == 2
        assert '"SubjectNameID"' in text  # kept here: what the other case shows gone
