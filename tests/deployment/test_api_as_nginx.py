"""« API Pro Santé Connectées » behind nginx's mutual TLS (docs/nginx): the example LPS,
Authlib's and openid-client's exchanges, the certificate reaching psc-idp in nginx's header
from a trusted proxy."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.deployment.test_nginx import Deployment, deployment  # noqa: F401 (the fixture)
from tests.e2e.test_api_pro_sante_connectees import (
    NODE_DIR,
    Chain,
    exchange_with_authlib,
    exchange_with_openid_client,
    prepare_chain,
    run_the_example,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def chain(deployment: Deployment, tmp_path_factory) -> Iterator[Chain]:  # noqa: F811
    folder = tmp_path_factory.mktemp("lps-nginx")
    public = deployment.public_url  # nginx is both the public and the mutual-TLS origin
    yield prepare_chain(deployment.server, folder, public, public, deployment.ca_bundle)


def test_the_example_lps_through_nginx(chain):
    assert chain.api_issuer.startswith("https://")  # nginx's public origin
    run_the_example(chain)


def test_authlib_exchange_through_nginx(chain):
    exchange_with_authlib(chain)


def test_openid_client_exchange_through_nginx(chain):
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "openid-client").is_dir():
        pytest.skip(f"node and openid-client (npm ci in {NODE_DIR}) are needed")
    exchange_with_openid_client(chain, node)
