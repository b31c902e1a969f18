"""The sandbox ASGI application: every vendor emulation plus the ``/__sandbox__`` controls.

Vendor modules live next to this file and each expose ``build_routes(config) -> list[BaseRoute]``.
They are listed explicitly in :data:`VENDOR_MODULES` (no optional imports): a vendor that fails to
import must fail the server, not silently vanish from it.
"""

from __future__ import annotations

import importlib

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from airflow_provider_telephony.sandbox.config import SandboxConfig
from airflow_provider_telephony.sandbox.faults import FaultMiddleware, FaultState, build_control_routes

#: modules of ``airflow_provider_telephony.sandbox`` whose routes the server serves
VENDOR_MODULES: tuple[str, ...] = ("avito", "callkeeper", "autocall", "tele2")


class SandboxApp(Starlette):
    """Starlette with the fault middleware as the outermost layer.

    Starlette's own ``middleware=`` list sits inside its error middleware, where ``send`` is already
    wrapped; fault injection needs the server's raw ``send`` to drop connections for real.
    """

    def __init__(self, routes: list[BaseRoute], fault_state: FaultState) -> None:
        super().__init__(routes=routes)
        self.fault_state = fault_state

    def build_middleware_stack(self) -> ASGIApp:
        """Starlette's usual stack, wrapped by :class:`FaultMiddleware`."""
        return FaultMiddleware(super().build_middleware_stack(), self.fault_state)


async def _health(request: Request) -> Response:
    return JSONResponse({"ok": True})


def vendor_routes(config: SandboxConfig) -> list[BaseRoute]:
    """Routes of every module in :data:`VENDOR_MODULES`, in that order."""
    routes: list[BaseRoute] = []
    for name in VENDOR_MODULES:
        module = importlib.import_module(f"airflow_provider_telephony.sandbox.{name}")
        routes.extend(module.build_routes(config))
    return routes


def create_app(config: SandboxConfig) -> Starlette:
    """Build one sandbox application; all its state (tokens, faults, seeded data) is private to it."""
    fault_state = FaultState(config.faults, config.seed)
    routes: list[BaseRoute] = [
        Route("/__sandbox__/health", _health, methods=["GET"]),
        *build_control_routes(fault_state),
        *vendor_routes(config),
    ]
    return SandboxApp(routes=routes, fault_state=fault_state)
