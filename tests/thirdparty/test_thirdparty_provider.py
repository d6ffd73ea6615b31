"""A third-party provider package, installed with pip, works end to end without any change to core code.

The package (``boxoffice_example_provider/`` next to this file) only declares a
``boxoffice.providers`` entry point. It is built and installed by pip into a directory of its own
(offline: no index, no build isolation), which is put on ``sys.path`` for this module's tests —
the virtual environment itself is left untouched.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from boxoffice.errors import PaymentDeclined
from boxoffice.orders import service as orders
from boxoffice.orders.models import Order
from boxoffice.orders.service import LineItem
from boxoffice.payments.checkout import pay
from boxoffice.payments.models import Refund
from boxoffice.payments.refunding import give_back
from boxoffice.providers import registry
from conftest import make_shop

D = Decimal
PACKAGE = Path(__file__).parent / "boxoffice_example_provider"
SOURCE = PACKAGE / "src" / "boxoffice_example_provider" / "__init__.py"
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "providers.md"

pytestmark = pytest.mark.xdist_group("thirdparty-provider")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Built from a copy, so the build leaves nothing behind in the source tree.
    source = tmp_path_factory.mktemp("source") / PACKAGE.name
    shutil.copytree(PACKAGE, source)
    target = tmp_path_factory.mktemp("site-packages")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index"]
    command += ["--no-deps", "--no-build-isolation", "--target", str(target), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    registry.provider_classes.cache_clear()
    yield
    sys.path.remove(str(target))
    sys.modules.pop("boxoffice_example_provider", None)
    registry.provider_classes.cache_clear()


def test_the_installed_package_is_found_through_its_entry_point(installed: None) -> None:
    cls = registry.provider_class("examplepay")
    assert cls.__module__ == "boxoffice_example_provider" and cls.verbose_name == "ExamplePay wallet"
    stored = registry.validate_payment_providers(
        {"examplepay": {"enabled": True, "merchant-id": "M-1", "api-key": "xp_secret"}}, currency="EUR"
    )
    shown = registry.public_payment_providers(stored)["examplepay"]
    assert shown["merchant-id"] == "M-1" and shown["secrets-set"] == ["api-key"] and "xp_secret" not in str(shown)


def test_place_pay_and_refund_an_order_with_the_third_party_provider(installed: None, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s, providers={"examplepay": {"enabled": True, "merchant-id": "M-1"}})
        order_id = orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 2)], actor="buyer"
        ).id
    with pytest.raises(PaymentDeclined, match="does not hold enough money"):
        pay(order_id, provider="examplepay", actor="buyer", form_data={"examplepay": "W-000010"}, uow=uow)
    outcome = pay(order_id, provider="examplepay", actor="buyer", form_data={"examplepay": "w-123456"}, uow=uow)
    assert outcome.state == "confirmed"
    with uow() as s:
        order = s.get(Order, order_id)
        assert (order.status, order.payment_state, order.payment_mode) == ("paid", "paid", "examplepay")
        assert [p.state for p in order.payments] == ["failed", "confirmed"]
    refunds = give_back(order_id, amount=D("30.00"), actor="user:organizer", uow=uow)
    refunds += give_back(order_id, amount=D("68.00"), actor="user:organizer", uow=uow)
    assert [(r.provider, r.state, r.amount) for r in refunds] == [
        ("examplepay", "done", D("30.00")),
        ("examplepay", "done", D("68.00")),
    ]
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.refund_total == D("98.00") and not order.has_open_refund
        assert all(r.provider_reference for r in s.scalars(select(Refund)))


def _block_after(marker: str, text: str) -> str:
    found = re.search(re.escape(marker) + r"\s*```[a-z]*\n(.*?)```", text, re.S)
    assert found, f"docs/providers.md has no code block after {marker}"
    return found.group(1)


def test_the_guides_example_is_the_package_the_test_installs() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    assert _block_after("<!-- example: __init__.py -->", guide) == SOURCE.read_text(encoding="utf-8")
    assert _block_after("<!-- example: pyproject.toml -->", guide) == (PACKAGE / "pyproject.toml").read_text(
        encoding="utf-8"
    )
