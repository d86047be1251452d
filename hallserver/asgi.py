"""The ASGI entry point for uvicorn workers: everything comes from the environment, where
`hallserver serve` put its options (hallserver/settings.py)."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from hallserver.app import create_app
from hallserver.db import SMS_LOG_ENV, database_url, make_engine
from hallserver.delivery import DeliveryLoop, default_gateway
from hallserver.settings import load_settings

DELIVERY_ENV = "HALLSERVER_DELIVERY"


# A cycle collection after this many new container objects (Python's default: 700).
GC_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """A pushed batch makes hundreds of thousands of short-lived objects (rows, models,
    answers); with Python's defaults the collector ran hundreds of times a batch, each older
    collection walking the whole heap of modules, routes and mappings made at start-up. Those
    live as long as the process, so they are frozen out of its reach, and it runs after 50,000
    new objects instead of 700 (bench/RESULTS.md, push: the server's share of a push fell by
    about 40%)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 100)


def app_from_environment() -> FastAPI:
    settings = load_settings()
    engine = make_engine(database_url(), pool_size=settings.pool_size,
                         max_overflow=settings.max_overflow,
                         prepared_statements=settings.prepared_statements)
    app = create_app(engine, settings)
    tune_garbage_collector()
    sms_log = os.environ.get(SMS_LOG_ENV)
    if os.environ.get(DELIVERY_ENV, "1") != "0" and sms_log:
        loop = DeliveryLoop(engine, default_gateway(Path(sms_log)))
        app_lifespan = app.router.lifespan_context  # the app's own, which this one wraps

        @asynccontextmanager
        async def lifespan(lifespan_app: FastAPI) -> AsyncIterator[None]:
            async with app_lifespan(lifespan_app):
                loop.start()
                yield
                loop.stop()

        app.router.lifespan_context = lifespan
    return app
