"""The pages' router, registered in :data:`boxoffice.app.ROUTER_MODULES`: the shop, the control panel, the assets."""

from __future__ import annotations

from fastapi import APIRouter

from boxoffice.web.control.pages import router as control_router
from boxoffice.web.home import router as home_router
from boxoffice.web.shop.pages import router as shop_router

router = APIRouter(include_in_schema=False)
router.include_router(home_router)
router.include_router(shop_router)
router.include_router(control_router)
