"""The pages' router, registered in :data:`boxoffice.app.ROUTER_MODULES`: the shop, the control panel, the assets."""

from __future__ import annotations

from fastapi import APIRouter

from boxoffice.web.control.pages import router as control_router
from boxoffice.web.home import router as home_router
from boxoffice.web.shop.pages import router as shop_router
from boxoffice.web.shop.stripe import router as stripe_router
from boxoffice.web.shop.tickets import router as tickets_router

router = APIRouter(include_in_schema=False)
router.include_router(home_router)
router.include_router(shop_router)
router.include_router(stripe_router)
router.include_router(tickets_router)
router.include_router(control_router)
