"""Render every wallet page with representative context and check its accessibility basics."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template

REPO = Path(__file__).resolve().parents[2]
CSRF = "csrf-test-token"

MEANS = [
    {
        "id": "card",
        "label": "Carte CPS",
        "description": "Avec votre carte CPS et un lecteur",
        "url": "/wallet/means/card",
        "available": True,
        "reason": "",
    },
    {
        "id": "mobile",
        "label": "Application e-CPS",
        "description": "Validez sur votre téléphone",
        "url": "/wallet/means/mobile",
        "available": True,
        "reason": "",
    },
    {
        "id": "fido",
        "label": "Clé de sécurité FIDO",
        "description": "Clé activée avec votre e-CPS",
        "url": "/wallet/means/fido",
        "available": False,
        "reason": "Non disponible pour le niveau de sécurité demandé",
    },
]

PRACTITIONERS = [
    {
        "national_id": "899700218896",
        "display_name": "Dr Marie DOC0021889",
        "profession_label": "Médecin",
        "savoir_faire_label": "Qualifié en médecine générale",
        "structure": "CABINET DR DOC0021889",
        "active": True,
    },
    {
        "national_id": "899700366240",
        "display_name": "Dr Kit DOC0036624",
        "profession_label": "Médecin",
        "savoir_faire_label": "Santé publique et médecine sociale",
        "structure": "CABINET M DOC0036624",
        "active": True,
    },
    {
        "national_id": "30B0057881/CPET0002",
        "display_name": "Jeanne PHARMA",
        "profession_label": "Pharmacien",
        "savoir_faire_label": "",
        "structure": "PHARMACIE DU CENTRE",
        "active": False,
    },
]

AUTH_MODES = [
    {"value": "CARD", "label": "Carte CPS", "acr": "eidas3", "allowed": True, "checked": False},
    {
        "value": "MOBILE",
        "label": "Application e-CPS",
        "acr": "eidas1",
        "allowed": False,
        "checked": False,
    },
    {
        "value": "FIDO",
        "label": "Clé de sécurité FIDO",
        "acr": "eidas2",
        "allowed": True,
        "checked": True,
    },
]

LOGIN_CTX: dict[str, Any] = {
    "client_name": "Logiciel de cabinet (test)",
    "means": MEANS,
    "login_hint": "899700218896",
    "cancel_url": "https://sp.example/callback?error=access_denied",
    "acr_note": "Le service demande un niveau eIDAS substantiel (eidas2) ou supérieur.",
}

PICKER_CTX: dict[str, Any] = {
    "client_name": "Logiciel de cabinet (test)",
    "action_url": "/wallet/dev/login",
    "csrf_token": CSRF,
    "search_url": "/wallet/dev/login",
    "query": "DOC",
    "practitioners": PRACTITIONERS,
    "login_hint": "899700366240",
    "auth_modes": AUTH_MODES,
    "error": "",
    "back_url": "/wallet/auth/choose",
    "dev_mode": True,
}

PAGES: dict[str, tuple[str, dict[str, Any]]] = {
    "login": ("wallet/login.html", LOGIN_CTX),
    "dev_picker": ("dev/picker.html", PICKER_CTX),
    "error": (
        "wallet/error.html",
        {
            "title": "Demande de connexion invalide",
            "message": "Le service a envoyé une demande incorrecte.",
            "details": "invalid_request: redirect_uri is not registered for this client",
            "back_url": "/",
        },
    ),
    "logged_out": ("wallet/logged_out.html", {}),
    "logout_confirm": (
        "wallet/logout_confirm.html",
        {
            "action_url": "/logout",
            "csrf_token": CSRF,
            "hidden": {"state": "xyz", "post_logout_redirect_uri": "https://sp.example/bye"},
            "cancel_url": "https://sp.example/",
        },
    ),
    "form_post": (
        "wallet/form_post.html",
        {
            "action": "https://sp.example/callback",
            "fields": {"code": "abc", "state": "s1", "iss": "https://idp.example/realm"},
        },
    ),
    "home": (
        "wallet/home.html",
        {
            "discovery_url": "https://idp.example/realm/.well-known/wallet-openid-configuration",
            "issuer": "https://idp.example/realm",
            "jwks_url": "https://idp.example/realm/protocol/openid-connect/certs",
        },
    ),
}


class Page(HTMLParser):
    """What the checks need from a rendered page: tags with attributes, text, link nesting."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.link_texts: list[str] = []
        self.text: list[str] = []
        self._open_links = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v if v is not None else "" for k, v in attrs}))
        if tag == "a":
            self._open_links += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._open_links = max(0, self._open_links - 1)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._open_links:
            self.link_texts.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.elements
            if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())

    @property
    def all_link_text(self) -> str:
        return " ".join(" ".join(self.link_texts).split())


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture
def app() -> Flask:
    return Flask(
        __name__,
        template_folder=str(REPO / "templates"),
        static_folder=str(REPO / "static"),
    )


def render(app: Flask, template: str, **context: Any) -> str:
    with app.test_request_context("/"):
        return render_template(template, **context)


# ---------- every page ----------


@pytest.mark.parametrize("name", PAGES)
def test_page_is_french_with_landmarks_and_local_stylesheet(app: Flask, name: str) -> None:
    template, context = PAGES[name]
    html = render(app, template, **context)
    page = parse(html)

    assert page.find("html", lang="fr")
    for landmark in ("header", "main", "footer"):
        assert page.find(landmark), landmark
    assert page.find("h1")
    assert "Pro Santé Connect" in page.all_text
    assert "émulateur psc-idp" in page.all_text
    assert "émulateur de Pro Santé Connect, à des fins de test et d'intégration" in page.all_text
    assert page.find("link", rel="stylesheet", href="/static/css/wallet.css")
    assert (REPO / "static" / "css" / "wallet.css").is_file()


@pytest.mark.parametrize("name", PAGES)
def test_every_visible_input_has_a_label(app: Flask, name: str) -> None:
    template, context = PAGES[name]
    page = parse(render(app, template, **context))

    label_targets = {a.get("for") for a in page.find("label")}
    ids = [a["id"] for _, a in page.elements if "id" in a]
    assert len(ids) == len(set(ids)), "duplicate id"
    for attrs in page.find("input"):
        if attrs.get("type") == "hidden":
            continue
        assert attrs.get("id") in label_targets, attrs


@pytest.mark.parametrize("name", PAGES)
def test_no_external_resources(app: Flask, name: str) -> None:
    template, context = PAGES[name]
    page = parse(render(app, template, **context))
    for tag, attrs in page.elements:
        if tag in ("link", "script", "img", "iframe"):
            for key in ("href", "src"):
                value = attrs.get(key, "")
                assert not value.startswith(("http:", "https:", "//")), (tag, value)


def test_dev_banner_only_in_dev_mode(app: Flask) -> None:
    banner = "Mode développement : identités de test"
    assert banner not in render(app, "wallet/logged_out.html")
    assert banner not in render(app, "wallet/logged_out.html", dev_mode=False)
    assert banner in render(app, "wallet/logged_out.html", dev_mode=True)


# ---------- login page (the "mire") ----------


def test_login_lists_available_means_as_links_in_order(app: Flask) -> None:
    page = parse(render(app, "wallet/login.html", **LOGIN_CTX))
    text = page.all_text

    assert "Vous vous connectez à : Logiciel de cabinet (test)" in text
    assert "Identifiant pré-rempli : 899700218896" in text
    assert LOGIN_CTX["acr_note"] in text
    means_links = [a["href"] for a in page.find("a", class_="means")]
    assert means_links == ["/wallet/means/card", "/wallet/means/mobile"]
    assert page.find("a", href=LOGIN_CTX["cancel_url"])
    assert "Annuler et revenir au service" in page.all_link_text


def test_login_unavailable_means_is_not_a_link(app: Flask) -> None:
    page = parse(render(app, "wallet/login.html", **LOGIN_CTX))

    assert not page.find("a", href="/wallet/means/fido")
    assert "Clé de sécurité FIDO" in page.all_text
    assert "Clé de sécurité FIDO" not in page.all_link_text
    assert "Non disponible pour le niveau de sécurité demandé" in page.all_text
    assert "Non disponible pour le niveau de sécurité demandé" not in page.all_link_text


def test_login_without_available_means_says_so(app: Flask) -> None:
    means = [dict(m, available=False) for m in MEANS]
    html = render(app, "wallet/login.html", **dict(LOGIN_CTX, means=means, login_hint=""))
    page = parse(html)

    assert not page.find("a", class_="means")
    assert page.find("div", role="alert")
    assert "Aucun moyen d'identification n'est disponible" in page.all_text
    assert "Identifiant pré-rempli" not in page.all_text


def test_login_optional_parts_absent(app: Flask) -> None:
    html = render(
        app,
        "wallet/login.html",
        **dict(LOGIN_CTX, login_hint="", acr_note="", cancel_url=""),
    )
    page = parse(html)
    assert "Identifiant pré-rempli" not in page.all_text
    assert "Annuler et revenir au service" not in page.all_text


# ---------- development identity picker ----------


def test_picker_form_carries_csrf_and_preselects_login_hint(app: Flask) -> None:
    page = parse(render(app, "dev/picker.html", **PICKER_CTX))

    form = page.find("form", method="post")
    assert form and form[0]["action"] == "/wallet/dev/login"
    assert page.find("input", type="hidden", name="csrf_token", value=CSRF)
    radios = page.find("input", type="radio", name="national_id")
    assert [r["value"] for r in radios] == [p["national_id"] for p in PRACTITIONERS]
    assert [r["value"] for r in radios if "checked" in r] == ["899700366240"]
    typed = page.find("input", name="national_id_typed")
    assert typed and typed[0]["value"] == "899700366240"
    assert page.find("input", name="q", value="DOC")
    assert page.find("form", method="get", action="/wallet/dev/login")


def test_picker_shows_practitioner_details_and_inactive(app: Flask) -> None:
    page = parse(render(app, "dev/picker.html", **PICKER_CTX))
    text = page.all_text

    assert "Rechercher une identité de test (nom ou identifiant national)" in text
    assert "…ou saisissez un identifiant national" in text
    assert "Médecin — Qualifié en médecine générale" in text
    assert "CABINET M DOC0036624" in text
    assert "inactif" in text
    inactive = page.find("input", type="radio", value="30B0057881/CPET0002")
    assert inactive and "disabled" not in inactive[0]
    assert "Se connecter avec cette identité" in text
    assert "mode développement" in text
    assert page.find("a", href="/wallet/auth/choose")
    assert "Choisir un autre moyen" in page.all_link_text


def test_picker_auth_modes(app: Flask) -> None:
    page = parse(render(app, "dev/picker.html", **PICKER_CTX))

    modes = {m["value"]: m for m in page.find("input", type="radio", name="auth_mode")}
    assert set(modes) == {"CARD", "MOBILE", "FIDO"}
    assert "disabled" in modes["MOBILE"]
    assert "disabled" not in modes["CARD"]
    assert "checked" in modes["FIDO"]
    assert "Moyen simulé" in page.all_text
    for acr in ("eidas1", "eidas2", "eidas3"):
        assert acr in page.all_text


def test_picker_error_is_an_alert_and_keeps_values(app: Flask) -> None:
    html = render(
        app,
        "dev/picker.html",
        **dict(PICKER_CTX, error="Identité inconnue : <b>x</b>", login_hint="899700218896"),
    )
    page = parse(html)

    assert page.find("div", role="alert")
    assert "Identité inconnue : <b>x</b>" in page.all_text
    assert "<b>x</b>" not in html
    checked = [r["value"] for r in page.find("input", name="national_id") if "checked" in r]
    assert checked == ["899700218896"]
    assert page.find("input", name="national_id_typed", value="899700218896")


def test_picker_no_result(app: Flask) -> None:
    page = parse(render(app, "dev/picker.html", **dict(PICKER_CTX, practitioners=[])))
    assert "Aucune identité de test ne correspond" in page.all_text
    assert not page.find("input", name="national_id")
    assert not page.find("div", role="alert")


# ---------- error, logout, form_post, home ----------


def test_error_page_escapes_details(app: Flask) -> None:
    html = render(
        app,
        "wallet/error.html",
        title="Erreur",
        message="Demande invalide",
        details="invalid_request: <script>alert(1)</script>",
    )
    page = parse(html)

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not page.find("script")
    assert page.find("details")
    assert "Détails techniques" in page.all_text
    assert page.find("div", role="alert")


def test_error_page_without_details_or_back_link(app: Flask) -> None:
    page = parse(render(app, "wallet/error.html", title="Erreur", message="Oups", details=""))
    assert not page.find("details")
    assert "Retour" not in page.all_link_text


def test_logged_out_message(app: Flask) -> None:
    assert "Vous êtes déconnecté" in parse(render(app, "wallet/logged_out.html")).all_text
    page = parse(render(app, "wallet/logged_out.html", message="Session fermée."))
    assert "Session fermée." in page.all_text


def test_logout_confirm_resends_hidden_fields(app: Flask) -> None:
    _, context = PAGES["logout_confirm"]
    page = parse(render(app, "wallet/logout_confirm.html", **context))

    assert "Voulez-vous vous déconnecter de Pro Santé Connect ?" in page.all_text
    assert page.find("form", method="post", action="/logout")
    assert page.find("input", type="hidden", name="csrf_token", value=CSRF)
    assert page.find("input", type="hidden", name="state", value="xyz")
    assert page.find(
        "input", type="hidden", name="post_logout_redirect_uri", value="https://sp.example/bye"
    )
    assert page.find("button", type="submit", name="confirm", value="yes")
    assert page.find("a", href="https://sp.example/")
    assert "Annuler" in page.all_link_text


def test_form_post_page(app: Flask) -> None:
    _, context = PAGES["form_post"]
    html = render(app, "wallet/form_post.html", **context)
    page = parse(html)

    assert page.find("form", method="post", action="https://sp.example/callback")
    for name, value in context["fields"].items():
        assert page.find("input", type="hidden", name=name, value=value)
    assert page.find("script", src="/static/js/form-post.js")
    assert "<noscript>" in html
    assert page.find("button", type="submit")
    assert "Continuer" in page.all_text


def test_home_links(app: Flask) -> None:
    _, context = PAGES["home"]
    page = parse(render(app, "wallet/home.html", **context))

    assert page.find("a", href=context["discovery_url"])
    assert page.find("a", href=context["jwks_url"])
    assert context["issuer"] in page.all_text
    assert "émulateur de Pro Santé Connect" in page.all_text
